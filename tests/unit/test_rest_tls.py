"""spec.rest.tls, the pure halves: when a certificate is renewed, what the operator issues, what it renders."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pydantic import ValidationError

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.policy import resttls
from connect_operator.render import cluster, deployment, names, workerconfig
from connect_operator.render.names import ClusterRef
from connect_worker import properties

pytestmark = pytest.mark.unit

REF = ClusterRef("orders", "data", "uid-1")
NAMES = resttls.service_names(REF.service, REF.namespace)
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def spec(**fields: Any) -> KafkaConnectSpec:
    return KafkaConnectSpec.model_validate({"bootstrapServers": "kafka:9092", **fields})


def rendered(**fields: Any) -> dict[str, Any]:
    return {o["kind"]: o for o in cluster.render(REF, spec(**fields), "kco:1", rest_certificate="ab12").objects}


# --- when to renew -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed_days", "due"),
    [(-1, True), (0, False), (1, False), (59, False), (60, True), (61, True), (89, True), (90, True), (91, True)],
)
def test_a_90_day_certificate_is_renewed_from_day_60_and_never_before_it_starts(elapsed_days: int, due: bool) -> None:
    assert resttls.rotation_due(T0, T0 + 90 * DAY, T0 + elapsed_days * DAY) is due


def test_rotation_flips_exactly_once_at_two_thirds_of_any_lifetime() -> None:
    for life_days, step_hours in itertools.product((1, 7, 90, 3650), (1, 5)):
        not_after = T0 + life_days * DAY
        instants = [T0 + datetime.timedelta(hours=h) for h in range(0, life_days * 24 + 1, step_hours)]
        verdicts = [resttls.rotation_due(T0, not_after, now) for now in instants]
        flips = [i for i in range(1, len(verdicts)) if verdicts[i] != verdicts[i - 1]]
        assert len(flips) == 1 and not verdicts[0] and verdicts[-1], (life_days, step_hours)
        assert instants[flips[0]] >= T0 + (not_after - T0) * 2 / 3 > instants[flips[0] - 1]


# --- what is issued -------------------------------------------------------------------------------------


def test_nothing_yet_issues_a_ca_and_a_leaf_for_server_and_client_use_naming_the_service() -> None:
    issued = resttls.plan(None, None, NAMES, T0)
    assert issued is not None
    assert set(issued.ca) == {"ca.crt", "ca.key"} and set(issued.leaf) == {"tls.crt", "tls.key", "ca.crt"}
    assert issued.leaf["ca.crt"] == issued.ca["ca.crt"]
    leaf = x509.load_pem_x509_certificate(issued.leaf["tls.crt"])
    ca = x509.load_pem_x509_certificate(issued.ca["ca.crt"])
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == list(NAMES)
    assert "orders-connect-api.data.svc" in NAMES
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.not_valid_after_utc - T0 == resttls.LEAF_LIFETIME


def test_current_secrets_issue_nothing() -> None:
    issued = resttls.plan(None, None, NAMES, T0)
    assert issued is not None
    assert resttls.plan(issued.ca, issued.leaf, NAMES, T0 + 59 * DAY) is None


def test_a_leaf_due_is_renewed_from_the_same_ca() -> None:
    issued = resttls.plan(None, None, NAMES, T0)
    assert issued is not None
    renewed = resttls.plan(issued.ca, issued.leaf, NAMES, T0 + 61 * DAY)
    assert renewed is not None
    assert renewed.ca == issued.ca, "the CA is kept: workers not yet rolled still trust the new leaf"
    assert renewed.leaf["tls.crt"] != issued.leaf["tls.crt"]
    assert resttls.plan(renewed.ca, renewed.leaf, NAMES, T0 + 61 * DAY) is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda leaf, other: {},
        lambda leaf, other: {**leaf, "tls.crt": b"not a certificate"},
        lambda leaf, other: {**leaf, "tls.key": other["tls.key"]},  # a key that is not the certificate's
        lambda leaf, other: {**leaf, "ca.crt": other["ca.crt"]},  # a stale CA bundle
        lambda leaf, other: other,  # a leaf of another CA
    ],
    ids=["empty", "garbage", "wrong-key", "stale-ca-bundle", "foreign-leaf"],
)
def test_a_leaf_that_does_not_fit_the_ca_is_replaced(spoil: Any) -> None:
    issued, other = resttls.plan(None, None, NAMES, T0), resttls.plan(None, None, NAMES, T0)
    assert issued is not None and other is not None
    replaced = resttls.plan(issued.ca, spoil(issued.leaf, other.leaf), NAMES, T0 + DAY)
    assert replaced is not None and replaced.ca == issued.ca


def test_a_leaf_for_other_names_is_replaced_when_the_service_name_changes() -> None:
    issued = resttls.plan(None, None, NAMES, T0)
    assert issued is not None
    assert resttls.plan(issued.ca, issued.leaf, resttls.service_names("renamed-connect-api", "data"), T0) is not None


def test_a_ca_due_or_missing_issues_both_anew() -> None:
    issued = resttls.plan(None, None, NAMES, T0)
    assert issued is not None
    for ca in (None, {}, {"ca.crt": issued.ca["ca.crt"]}):
        anew = resttls.plan(ca, issued.leaf, NAMES, T0)
        assert anew is not None and anew.ca["ca.crt"] != issued.ca["ca.crt"]
    late = T0 + resttls.CA_LIFETIME * 0.7
    anew = resttls.plan(issued.ca, issued.leaf, NAMES, late)
    assert anew is not None and anew.ca["ca.crt"] != issued.ca["ca.crt"] and anew.leaf["ca.crt"] == anew.ca["ca.crt"]


def test_a_name_too_long_for_a_common_name_still_gets_its_certificate() -> None:
    long_names = resttls.service_names("x" * 60 + "-connect-api", "a-namespace")
    issued = resttls.plan(None, None, long_names, T0)
    assert issued is not None
    sans = x509.load_pem_x509_certificate(issued.leaf["tls.crt"]).extensions
    assert (
        sans.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)[0]
        == (long_names[0])
    )


# --- what is rendered -----------------------------------------------------------------------------------


def test_without_rest_tls_the_listener_and_probes_are_as_before() -> None:
    objects = {o["kind"]: o for o in cluster.render(REF, spec(), "kco:1", rest_certificate="ab12").objects}
    props = workerconfig.worker_properties(spec(), "g")
    assert props["listeners"] == "http://:8083"
    assert not [k for k in props if k.startswith("listeners.https.") or k == "rest.advertised.listener"]
    pod_spec = objects["Deployment"]["spec"]["template"]
    assert names.REST_CERTIFICATE_ANNOTATION not in pod_spec["metadata"]["annotations"]
    connect = pod_spec["spec"]["containers"][0]
    assert connect["readinessProbe"]["httpGet"] == {"path": "/", "port": "rest"}
    assert "rest-tls" not in {v["name"] for v in pod_spec["spec"]["volumes"]}
    assert "--rest-cert" not in pod_spec["spec"]["initContainers"][0]["args"]


def test_rest_tls_renders_https_with_client_auth_for_server_and_forwarding_client() -> None:
    props = workerconfig.worker_properties(spec(rest={"tls": {}}), "g")
    assert props["listeners"] == "https://:8083,http://127.0.0.1:8084"
    assert props["rest.advertised.listener"] == "https"
    assert props["listeners.https.ssl.client.auth"] == "required"
    assert props["listeners.https.ssl.keystore.location"] == workerconfig.REST_KEYSTORE_FILE
    assert props["listeners.https.ssl.truststore.location"] == workerconfig.REST_TRUSTSTORE_FILE
    assert props["listeners.https.ssl.keystore.type"] == props["listeners.https.ssl.truststore.type"] == "PKCS12"
    assert props["listeners.https.ssl.endpoint.identification.algorithm"] == ""
    assert not [k for k in props if "password" in k], "the stores' password is the init step's alone"
    assert properties.listener_layout(props["listeners"]) == ("https", 8084)


def test_rest_tls_with_kafka_tls_keeps_the_two_apart() -> None:
    props = workerconfig.worker_properties(
        spec(rest={"tls": {}}, tls={"trustedCertificates": [{"secretName": "kafka-ca"}]}), "g"
    )
    assert props["ssl.truststore.location"] == workerconfig.TRUSTSTORE_FILE
    assert props["listeners.https.ssl.truststore.location"] == workerconfig.REST_TRUSTSTORE_FILE


@pytest.mark.parametrize(("tls", "secret"), [({}, "orders-connect-rest-tls"), ({"secretName": "mine"}, "mine")])
def test_the_init_container_alone_mounts_the_rest_secret_and_the_pods_carry_its_fingerprint(
    tls: dict[str, str], secret: str
) -> None:
    template = rendered(rest={"tls": tls})["Deployment"]["spec"]["template"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert volumes["rest-tls"]["secret"] == {"secretName": secret, "defaultMode": 0o440}
    init, connect = template["spec"]["initContainers"][0], template["spec"]["containers"][0]
    assert {"name": "rest-tls", "mountPath": names.REST_TLS_DIR, "readOnly": True} in init["volumeMounts"]
    assert "rest-tls" not in {m["name"] for m in connect["volumeMounts"]}
    args = init["args"]
    assert args[args.index("--rest-cert") + 1] == f"{names.REST_TLS_DIR}/tls.crt"
    assert args[args.index("--rest-keystore") + 1] == workerconfig.REST_KEYSTORE_FILE
    assert template["metadata"]["annotations"][names.REST_CERTIFICATE_ANNOTATION] == "ab12"
    assert "orders-connect-rest-ca" not in {v.get("secret", {}).get("secretName") for v in volumes.values()}


def test_rest_tls_probes_are_exec_probes_of_the_loopback_plain_listener() -> None:
    connect = rendered(rest={"tls": {}})["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    plain = deployment.probes()
    for kind, path in (("startupProbe", "/health"), ("readinessProbe", "/"), ("livenessProbe", "/health")):
        probe = connect[kind]
        assert "httpGet" not in probe
        assert probe["exec"]["command"][-3:] == ["127.0.0.1", "8084", path]
        timing = ("periodSeconds", "timeoutSeconds", "failureThreshold")
        assert [probe[k] for k in timing] == [plain[kind][k] for k in timing], "same timing as the httpGet probes"


def test_listeners_https_keys_in_config_are_refused_only_with_rest_tls() -> None:
    assert spec(config={"listeners.https.ssl.protocol": "TLSv1.3"}).config
    with pytest.raises(ValidationError, match=r"listeners\.https\.ssl\.protocol"):
        spec(rest={"tls": {}}, config={"listeners.https.ssl.protocol": "TLSv1.3"})


def test_the_status_url_scheme_follows_rest_tls() -> None:
    assert REF.rest_url(8083, "https") == "https://orders-connect-api.data.svc:8083"
    assert REF.rest_url(8083) == "http://orders-connect-api.data.svc:8083"


@pytest.mark.parametrize(
    ("listeners", "layout"),
    [
        ("http://:8083", ("http", None)),
        ("https://:8083,http://127.0.0.1:8084", ("https", 8084)),
        ("https://:8083", ("https", None)),
        ("", ("http", None)),
    ],
)
def test_the_pod_runner_reads_the_listener_layout_back(listeners: str, layout: tuple[str, int | None]) -> None:
    assert properties.listener_layout(listeners) == layout


def test_a_worker_spec_with_a_probe_port_binds_both_listeners_at_its_address() -> None:
    rendered_props = workerconfig.worker_properties(spec(rest={"tls": {}}), "g")
    worker = properties.spec_from_properties(rendered_props, "127.9.9.2", 8083, "/plugins")
    assert properties.worker_properties(worker)["listeners"] == "https://127.9.9.2:8083,http://127.9.9.2:8084"
    assert (worker.rest_url, worker.health_url) == ("https://127.9.9.2:8083", "http://127.9.9.2:8084")
    plain = properties.spec_from_properties(workerconfig.worker_properties(spec(), "g"), "127.9.9.2", 8083, "/p")
    assert plain.health_url == plain.rest_url == "http://127.9.9.2:8083"
