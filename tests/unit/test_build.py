"""The control-plane builder's pure parts: which modules to replace, and how."""

from __future__ import annotations

from sundial.devstack.build import staging_modules, wrapper_gomod

UPSTREAM = """module k8s.io/kubernetes
replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tgithub.com/other/thing => github.com/other/thing v1.0.0
)
"""


def test_staging_modules_are_the_local_path_replacements() -> None:
    assert staging_modules(UPSTREAM) == ["k8s.io/api", "k8s.io/client-go"]


def test_wrapper_replaces_each_staging_module_with_its_v0_twin() -> None:
    gomod = wrapper_gomod("v1.35.4", ["k8s.io/api", "k8s.io/client-go"])
    assert "require k8s.io/kubernetes v1.35.4" in gomod
    assert "\tk8s.io/api => k8s.io/api v0.35.4\n" in gomod
    assert "\tk8s.io/client-go => k8s.io/client-go v0.35.4\n" in gomod
