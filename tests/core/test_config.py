"""Program configuration files (salus.core.config)."""

from __future__ import annotations

import pytest

from salus.core.config import ConfigError, load_config


@pytest.mark.parametrize("text, limit", [("", None), ("suppression_audit_limit = 1600\n", 1600),
                                          ("suppression_audit_limit = 0\n", 0)])
def test_the_audit_limit_is_read(tmp_path, text, limit):
    path = tmp_path / "program.toml"
    path.write_text(text)
    assert load_config(path).suppression_audit_limit == limit


@pytest.mark.parametrize("value", ["-1", "1.5", '"1600"', "true"])
def test_an_audit_limit_that_is_not_a_whole_number_from_0_is_an_error(tmp_path, value):
    path = tmp_path / "program.toml"
    path.write_text(f"suppression_audit_limit = {value}\n")
    with pytest.raises(ConfigError, match="suppression_audit_limit"):
        load_config(path)


def test_an_unknown_setting_is_an_error(tmp_path):
    path = tmp_path / "program.toml"
    path.write_text("suppression_treshold = 5\n")
    with pytest.raises(ConfigError, match="suppression_treshold"):
        load_config(path)
