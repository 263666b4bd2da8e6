"""Secrets sealed at rest with a key from SECRET_KEY: opened by that key only."""

import pytest

from portal.security import sealing

KEY = "k" * 40


def test_a_sealed_value_opens_with_its_key_only():
    sealed = sealing.seal("imap pässword", KEY)
    assert sealed.startswith(sealing.PREFIX) and "imap" not in sealed
    assert sealing.seal("imap pässword", KEY) != sealed  # a fresh IV each time
    assert sealing.unseal(sealed, KEY) == "imap pässword"
    with pytest.raises(sealing.SealError):
        sealing.unseal(sealed, "another key")
    with pytest.raises(sealing.SealError):
        sealing.unseal(sealed, None)
    with pytest.raises(sealing.SealError):
        sealing.unseal(sealed[:-4] + "AAAA", KEY)  # tampered


def test_a_value_stored_before_sealing_is_read_as_it_is():
    assert sealing.unseal("typed long ago", KEY) == "typed long ago"
    assert sealing.unseal("typed long ago", None) == "typed long ago"


def test_the_longest_password_the_form_takes_still_fits_the_column():
    assert len(sealing.seal("x" * 200, KEY)) <= 500
