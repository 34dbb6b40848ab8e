"""Where the operator's Kubernetes credentials come from, read by the kubernetes client's own loaders.

The order is controller-runtime's: a kubeconfig named by the settings (`$KUBECONFIG`, a list of files,
merged), then the in-cluster ServiceAccount, then `~/.kube/config`. Whatever a kubeconfig holds
(embedded certificate data, file paths, tokens, `exec` credential plugins, `insecure-skip-tls-verify`,
`proxy-url`) is understood by the client library; kopf is handed the same credentials.
"""

from __future__ import annotations

import kopf
from kubernetes import client, config

from connect_operator.settings import OperatorSettings


def configuration(settings: OperatorSettings) -> client.Configuration:
    """A fresh client configuration; exec plugins and expiring tokens refresh through its api-key hook."""
    loaded = client.Configuration()
    if settings.kubeconfig:
        config.load_kube_config(config_file=settings.kubeconfig, client_configuration=loaded)
    else:
        try:
            config.load_incluster_config(client_configuration=loaded)
        except config.ConfigException:
            config.load_kube_config(client_configuration=loaded)  # ~/.kube/config
    return loaded


def connection_info(loaded: client.Configuration) -> kopf.ConnectionInfo:
    """kopf's view of the same credentials (what `kopf.login_via_client` reads from the default config)."""
    header = loaded.get_api_key_with_prefix("BearerToken") or loaded.get_api_key_with_prefix("authorization")
    scheme, _, token = (header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=loaded.host,
        ca_path=loaded.ssl_ca_cert,
        insecure=not loaded.verify_ssl,
        username=loaded.username or None,
        password=loaded.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=loaded.cert_file,
        private_key_path=loaded.key_file,
        proxy_url=loaded.proxy,
        priority=10,
    )
