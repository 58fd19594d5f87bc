"""The expert rule system: decide ``iso_t1`` and ``nsaid_late`` from a post's extracted facts.

Study protocol §2: a post is positive for a situation only when an **actual**
exposure of a **pregnant person** (the author or someone described) falls in the
situation's window. Per drug mention:

``iso_t1``
    oral isotretinoin (a skin form does not count), taken (``exposure == actual``)
    by a pregnant person, not after the delivery nor before conception, and placed
    in the first trimester: a gestational age with ``sa <= iso_t1_max_sa`` (or a range
    entirely within it), or a first-trimester cue (before the pregnancy was known, a
    positive test while on treatment, a miscarriage, the beginning of the pregnancy).
``nsaid_late``
    any NSAID (any route, any dose), or aspirin at ``>= aspirin_min_mg_day`` mg/day
    (an analgesic brand with no dose stated counts; antiplatelet or unspecified
    aspirin without a dose does not), taken by a pregnant person, not after the
    delivery nor while breastfeeding, at a gestational age ``>= nsaid_late_min_sa``
    (a point, or a range that starts there).

Thresholds come from config (``rules:``); the defaults are the protocol's: 14 SA,
24 SA (ANSM 2017: from the start of the 6th month), 500 mg/day. Each positive
decision keeps its evidence: the mention, the age, the dose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perivigil.extract.pipeline import MentionFacts, PostFacts


@dataclass(frozen=True)
class RuleThresholds:
    iso_t1_max_sa: float = 14.0
    nsaid_late_min_sa: float = 24.0
    aspirin_min_mg_day: float = 500.0


@dataclass(frozen=True)
class Evidence:
    """Why a label is positive: which mention, which age, which dose."""

    drug: str
    inn: str
    text: str
    sentence: str
    gestational_age_sa: float | None
    age_text: str | None
    dose_mg_day: float | None
    dose_text: str | None

    def describe(self) -> str:
        parts = [f"{self.inn} ('{self.text}')"]
        if self.age_text:
            age = f"{self.gestational_age_sa:g} SA" if self.gestational_age_sa is not None else "range"
            parts.append(f"at {age} ('{self.age_text}')")
        if self.dose_mg_day is not None:
            parts.append(f"{self.dose_mg_day:g} mg/day ('{self.dose_text}')")
        return " ".join(parts)


@dataclass(frozen=True)
class Decision:
    iso_t1: int
    nsaid_late: int
    iso_t1_evidence: list[Evidence] = field(default_factory=list)
    nsaid_late_evidence: list[Evidence] = field(default_factory=list)


def _evidence(m: MentionFacts) -> Evidence:
    return Evidence(m.mention.entry.drug_class, m.mention.entry.inn, m.evidence, m.sentence,
                    m.age.sa if m.age else None, m.age_text,
                    m.dose.dose_mg_day if m.dose else None, m.dose_text)


def taken_by_a_pregnant_person(m: MentionFacts, post: PostFacts) -> bool:
    """An actual exposure of the author (whose post speaks of a pregnancy) or of a relative said pregnant."""
    if m.exposure != "actual":
        return False
    if m.person == "self":
        return post.pregnant
    return bool(m.person_pregnant)


def in_first_trimester(m: MentionFacts, t: RuleThresholds) -> bool:
    if m.age is not None:
        if m.age.sa is not None:
            return m.age.sa <= t.iso_t1_max_sa
        if m.age.sa_max <= t.iso_t1_max_sa:
            return True
    return m.first_trimester_cue


def at_or_after_late_threshold(m: MentionFacts, t: RuleThresholds) -> bool:
    if m.age is None:
        return False
    if m.age.sa is not None:
        return m.age.sa >= t.nsaid_late_min_sa
    return m.age.sa_min >= t.nsaid_late_min_sa


def counts_as_nsaid(m: MentionFacts, t: RuleThresholds) -> bool:
    """Any NSAID; aspirin only at the analgesic dose (protocol §4)."""
    drug_class = m.mention.entry.drug_class
    if drug_class == "nsaid":
        return True
    if drug_class.startswith("aspirin"):
        if m.dose is not None and m.dose.dose_mg_day is not None:
            return m.dose.dose_mg_day >= t.aspirin_min_mg_day
        return drug_class == "aspirin_analgesic"
    return False


def iso_t1_mention(m: MentionFacts, post: PostFacts, t: RuleThresholds) -> bool:
    return (m.mention.entry.drug_class == "isotretinoin" and m.route != "cutaneous"
            and taken_by_a_pregnant_person(m, post)
            and m.timing not in ("postpartum", "breastfeeding", "before_conception")
            and in_first_trimester(m, t))


def nsaid_late_mention(m: MentionFacts, post: PostFacts, t: RuleThresholds) -> bool:
    return (counts_as_nsaid(m, t) and taken_by_a_pregnant_person(m, post)
            and m.timing not in ("postpartum", "breastfeeding", "before_conception")
            and at_or_after_late_threshold(m, t))


def decide(post: PostFacts, thresholds: RuleThresholds = RuleThresholds()) -> Decision:
    """Both labels of a post, with the evidence of each positive."""
    iso = [_evidence(m) for m in post.mentions if iso_t1_mention(m, post, thresholds)]
    nsaid = [_evidence(m) for m in post.mentions if nsaid_late_mention(m, post, thresholds)]
    return Decision(int(bool(iso)), int(bool(nsaid)), iso, nsaid)
