"""Every setting is documented in the README, exactly as pier/settings.py defines it."""

from __future__ import annotations

import dataclasses

from pier.settings import SETTINGS, Settings
from scripts.settings_table import README, table


def test_readme_settings_table_matches_the_code() -> None:
    assert table() in README.read_text()


def test_every_setting_is_a_field_with_the_same_default() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    assert list(fields) == [s.name for s in SETTINGS]
    loaded = Settings.load(env={})
    for setting in SETTINGS:
        assert setting.help.endswith("."), setting.name
        assert getattr(loaded, setting.name) is not None


def test_flag_beats_env_beats_default() -> None:
    env = {"PIER_PORT": "9001", "PIER_HOST": "0.0.0.0"}
    assert Settings.load({"port": 9002}, env=env).port == 9002
    assert Settings.load({}, env=env).host == "0.0.0.0"
    assert Settings.load({}, env={}).port == 8000
