"""Which of our addresses a message is for: one normaliser for the addresses as stored and as
looked up (lower case, the domain in IDNA, a +tag taken off)."""

from kb import clock
from portal.mail import addresses, tokens
from portal.mail.inbound.recipients import known_address


def test_an_address_on_an_international_domain_is_found_in_every_spelling(make, ctx):
    brand = make.brand(slug="hanbit")
    stored = addresses.add(
        ctx,
        address="Support@한빛.example",
        brand_id=brand.id,
        form_id=None,
        customer_org_id=None,
        name="",
        now=clock.now(),
    )
    ctx.commit()
    assert stored.address == "support@xn--xx3br43b.example"
    for spelling in (
        "support@한빛.example",
        "SUPPORT@한빛.EXAMPLE",
        "support+t12-0123456789abcdef@한빛.example",
        "support@xn--xx3br43b.example",
        " support+anything@XN--XX3BR43B.example ",
    ):
        assert known_address(ctx, spelling) == stored, spelling
    assert known_address(ctx, "sales@한빛.example") is None
    assert tokens.base_address("Support+t1-x@한빛.example") == "support@xn--xx3br43b.example"
