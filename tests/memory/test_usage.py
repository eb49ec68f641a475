"""Retrievals are counted without slowing retrieve, and the counts reach the store."""

from alma_app import ALMA, insights


def test_retrievals_are_counted_per_memory_and_reach_the_analytics(alma):
    fact = alma.add_domain_knowledge("helena", "form_validation", "emails need an @ sign")
    for _ in range(3):
        alma.retrieve("validate the email field", agent="helena")
    alma.retrieve("email validation rules", agent="victor")  # sees nothing of helena's
    alma.usage.flush()
    rows = insights.most_retrieved(alma)
    assert rows[0]["memory_id"] == fact.id
    assert rows[0]["retrievals"] == 3 and rows[0]["agents"] == 1


def test_usage_is_not_part_of_a_memorys_history(alma):
    fact = alma.add_domain_knowledge("helena", "form_validation", "zip codes have five digits")
    alma.retrieve("zip code format", agent="helena")
    alma.usage.flush()
    assert [event.action for event in alma.history(fact.id)] == ["create"]


def test_closing_flushes_pending_counts(disk_alma):
    disk_alma.add_domain_knowledge("helena", "form_validation", "phone numbers are E.164")
    disk_alma.retrieve("phone number format", agent="helena")
    disk_alma.close()
    reopened = ALMA(disk_alma.settings, embedder=disk_alma.embedder)  # a closed handle is done
    assert insights.most_retrieved(reopened)[0]["retrievals"] == 1
