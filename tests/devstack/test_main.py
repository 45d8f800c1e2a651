"""`make run`: a setting the environment gets wrong stops it before anything starts, named."""
from __future__ import annotations

from devstack.__main__ import main


def test_a_wrong_setting_is_named_and_nothing_starts(monkeypatch, capsys):
    monkeypatch.setenv("SCALE_DOWN_DELAY_S", "a minute")
    assert main([]) == 2
    assert capsys.readouterr().err.strip() == "SCALE_DOWN_DELAY_S must be a number, not 'a minute'"
