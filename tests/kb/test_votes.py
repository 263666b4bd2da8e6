"""kb.votes: readers' answers to "was this article helpful?"."""

from kb import votes


def test_a_recorded_vote_is_tallied_in_the_language_read(session, make):
    brand = make.brand(slug="acme", locales=("en", "ko"))
    article = make.article(make.section(make.category(brand)))
    votes.record(session, article.id, "ko", True)
    votes.record(session, article.id, "ko", False)
    votes.record(session, article.id, "en", True)
    tally = votes.tally_by_locale(session, article.id)
    assert tally == {"en": votes.Tally(yes=1, no=0), "ko": votes.Tally(yes=1, no=1)}
    assert tally["ko"].helpful_percent == 50
