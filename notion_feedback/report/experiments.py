"""A/B comparison of variants from the per-variant aggregates the report already has (no extra requests).

Why these tests: LangSmith's grouped stats give, per variant, the run count, the error rate and the rating's
``n``/``avg``/``stdev`` — exactly what a two-proportion z-test (success rate) and Welch's t-test (average
rating, unequal variances) need, without downloading a single run. Cost and latency come without a spread, so
they are compared in words and ratios, never called "significant".

Honesty rules: below ``MIN_RATINGS`` ratings (or ``MIN_RUNS`` interactions) per arm no test is run and the
verdict says how many more are needed; with more than two variants each is compared with the control and the
significance level is Bonferroni-corrected; the server's ``stdev`` is read as the population deviation and
turned into the sample one (× n/(n-1)). When no ``stdev`` is sent, the widest spread the scale allows is used,
which can only make a difference look less significant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notion_feedback.report.kpi import GroupKpis

ALPHA = 0.05
POWER = 0.8
MIN_RATINGS = 30  # per arm, before a rating difference is judged
MIN_RUNS = 100  # per arm, before a success-rate difference is judged
MIN_EVENTS = 5  # expected successes and failures per arm for the normal approximation
CONTROL_NAMES = ("a", "control", "baseline")
NO_VARIANT = ("", "none", "null")


# -- distributions (no scipy: math.erf and a continued fraction) ------------------------------------------------


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """Inverse of ``normal_cdf`` by bisection (used for a handful of fixed quantiles)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (Lentz's method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value of Student's t with ``df`` degrees of freedom (df may be fractional, as in Welch)."""
    if math.isinf(df) or df > 1e7:
        return 2.0 * normal_cdf(-abs(t))
    return _betainc(df / 2.0, 0.5, df / (df + t * t))


# -- the tests --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """``diff`` is variant − control; ``p`` two-sided; ``significant`` at the (corrected) ``alpha``."""

    __test__ = False  # not a pytest class

    diff: float
    se: float
    statistic: float
    p: float
    alpha: float
    df: float | None = None

    @property
    def significant(self) -> bool:
        return self.p < self.alpha


def two_proportion_z(x1: int, n1: int, x2: int, n2: int, alpha: float = ALPHA) -> TestResult | None:
    """Arm 2 − arm 1 success proportions, pooled standard error; None when undefined (n = 0 or p̂ ∈ {0, 1})."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return None
    z = (p2 - p1) / se
    return TestResult(diff=p2 - p1, se=se, statistic=z, p=2.0 * normal_cdf(-abs(z)), alpha=alpha)


def welch(
    n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float, alpha: float = ALPHA
) -> TestResult | None:
    """Welch's t-test of mean2 − mean1 from summary statistics (sample standard deviations)."""
    if n1 < 2 or n2 < 2:
        return None
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    se = math.sqrt(v1 + v2)
    diff = mean2 - mean1
    if se == 0.0:
        return None
    df = (v1 + v2) ** 2 / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1)) if v1 + v2 else float("inf")
    t = diff / se
    return TestResult(diff=diff, se=se, statistic=t, p=t_two_sided_p(t, df), alpha=alpha, df=df)


def sample_size_per_arm(sd1: float, sd2: float, delta: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Ratings per arm to detect a difference ``delta`` of means (two-sided, normal approximation)."""
    if delta == 0:
        raise ValueError("delta must not be 0")
    z = normal_ppf(1.0 - alpha / 2.0) + normal_ppf(power)
    return math.ceil(z * z * (sd1 * sd1 + sd2 * sd2) / (delta * delta))


# -- variants ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """One variant's numbers (rates 0..1, ms, USD, ratings on the workspace's scale)."""

    name: str
    runs: int
    success_rate: float | None
    rating_avg: float | None
    rating_stdev: float | None
    rating_count: int
    latency_p50_ms: float | None
    cost_per_interaction: float | None

    @property
    def successes(self) -> int | None:
        return None if self.success_rate is None else round(self.success_rate * self.runs)


def arm_of(g: GroupKpis) -> Arm:
    return Arm(
        name=g.name,
        runs=g.runs,
        success_rate=None if g.error_rate is None else 1.0 - g.error_rate,
        rating_avg=g.rating_avg,
        rating_stdev=g.rating_stdev,
        rating_count=g.rating_count,
        latency_p50_ms=g.latency_p50_ms,
        cost_per_interaction=g.cost_per_interaction,
    )


@dataclass
class Comparison:
    """A variant against the control: the tests, and what they mean in words."""

    control: str
    variant: str
    rating: TestResult | None
    success: TestResult | None
    ratings_needed: int | None  # more ratings per arm before the rating difference can be told
    lines: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """The first line; like every line it leaves the pair unnamed, since the page names it ("B vs A: …")."""
        return self.lines[0] if self.lines else ""


@dataclass
class Experiment:
    arms: list[Arm]
    control: str
    alpha: float
    comparisons: list[Comparison]

    @property
    def confidence(self) -> str:
        return f"{(1 - self.alpha) * 100:.4g} %"


def pick_control(arms: Sequence[Arm]) -> Arm:
    """The arm called A / control / baseline, else the one with the most interactions."""
    for arm in arms:
        if arm.name.strip().lower() in CONTROL_NAMES:
            return arm
    return max(arms, key=lambda a: (a.runs, -ord(a.name[:1] or " ")))


def _sample_sd(arm: Arm, scale_span: float) -> tuple[float, bool]:
    """The sample standard deviation of the arm's ratings, and whether it is the scale's worst case."""
    if arm.rating_stdev is None:
        return scale_span / 2.0, True
    n = arm.rating_count
    return arm.rating_stdev * math.sqrt(n / (n - 1)) if n > 1 else arm.rating_stdev, False


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def _level(alpha: float) -> str:
    return f"{(1 - alpha) * 100:.4g} %"


def _rating_lines(c: Arm, v: Arm, alpha: float, scale_span: float) -> tuple[TestResult | None, int | None, list[str]]:
    if c.rating_avg is None or v.rating_avg is None:
        where = "either arm" if c.rating_avg is None and v.rating_avg is None else "one arm"
        return None, None, [f"No ratings yet in {where}."]
    sd_c, worst_c = _sample_sd(c, scale_span)
    sd_v, worst_v = _sample_sd(v, scale_span)
    diff = v.rating_avg - c.rating_avg
    # the smallest difference worth telling apart: what is observed, but at least 2.5 % of the scale's span
    delta = max(abs(diff), 0.025 * scale_span)
    need_total = sample_size_per_arm(sd_c, sd_v, delta, alpha)
    lacking = max(MIN_RATINGS, need_total) - min(c.rating_count, v.rating_count)
    have = f"{v.rating_count} and {c.rating_count} ratings"
    if min(c.rating_count, v.rating_count) < MIN_RATINGS:
        return (
            None,
            max(lacking, 1),
            [
                f"Not enough data yet: need ≈{max(lacking, 1):,} more ratings per arm "
                f"(have {have}; at least {MIN_RATINGS} per arm before judging)."
            ],
        )
    test = welch(c.rating_count, c.rating_avg, sd_c, v.rating_count, v.rating_avg, sd_v, alpha)
    word = "higher" if diff > 0 else "lower"
    spread = " (spread not reported: the scale's widest assumed)" if worst_c or worst_v else ""
    if test is None:
        return None, None, ["Every rating is identical in both arms; nothing to test."]
    base = (
        f"{v.name} rated {abs(diff):.2f} {word} than {c.name}"
        if round(abs(diff), 2)
        else f"{v.name} rated the same as {c.name}"
    ) + f" ({v.rating_avg:.2f} vs {c.rating_avg:.2f})"
    if test.significant:
        return test, None, [f"{base}, significant at {_level(alpha)} ({_p(test.p)}){spread}."]
    needed = max(lacking, 1)
    return (
        test,
        needed,
        [
            f"{base}, not significant at {_level(alpha)} ({_p(test.p)}): need ≈{needed:,} more ratings per arm "
            f"to tell a difference of {delta:.2f}{spread}."
        ],
    )


def _success_line(c: Arm, v: Arm, alpha: float) -> tuple[TestResult | None, str | None]:
    xc, xv = c.successes, v.successes
    if xc is None or xv is None:
        return None, None
    head = f"Success rate: {v.name} {v.success_rate:.1%} vs {c.name} {c.success_rate:.1%}"
    if min(c.runs, v.runs) < MIN_RUNS:
        return None, f"{head} (too few interactions to test: {MIN_RUNS} per arm needed)."
    pooled = (xc + xv) / (c.runs + v.runs)
    if min(c.runs, v.runs) * min(pooled, 1 - pooled) < MIN_EVENTS:
        return None, f"{head} (too few {'failures' if pooled > 0.5 else 'successes'} to test)."
    test = two_proportion_z(xc, c.runs, xv, v.runs, alpha)
    if test is None:
        return None, None
    points = test.diff * 100
    judged = f"significant at {_level(alpha)}" if test.significant else "not significant"
    return test, f"{head} ({points:+.1f} points, {judged}, {_p(test.p)})."


def _cost_line(c: Arm, v: Arm) -> str | None:
    parts = []
    if c.cost_per_interaction and v.cost_per_interaction is not None:
        ratio = v.cost_per_interaction / c.cost_per_interaction
        parts.append(
            f"{v.name} costs {ratio:.2g}× {c.name} per interaction "
            f"(${v.cost_per_interaction:.4f} vs ${c.cost_per_interaction:.4f})"
        )
    if c.latency_p50_ms and v.latency_p50_ms is not None:
        parts.append(f"p50 latency {v.latency_p50_ms / 1000:.2f} s vs {c.latency_p50_ms / 1000:.2f} s")
    return ("; ".join(parts) + " (no spread reported: not tested).") if parts else None


def compare_arms(control: Arm, variant: Arm, alpha: float, scale_span: float) -> Comparison:
    rating, needed, lines = _rating_lines(control, variant, alpha, scale_span)
    success, success_line = _success_line(control, variant, alpha)
    cost_line = _cost_line(control, variant)
    lines += [x for x in (success_line, cost_line) if x]
    return Comparison(control.name, variant.name, rating, success, needed, lines)


def compare_variants(
    groups: Sequence[GroupKpis], scale_min: float, scale_max: float, alpha: float = ALPHA
) -> Experiment | None:
    """Each variant against the control; None with fewer than two variants (nothing to compare)."""
    arms = [arm_of(g) for g in groups if g.name.strip().lower() not in NO_VARIANT and g.runs > 0]
    if len(arms) < 2:
        return None
    control = pick_control(arms)
    others = [a for a in arms if a is not control]
    corrected = alpha / len(others)  # Bonferroni: k-1 comparisons against one control
    span = scale_max - scale_min
    return Experiment(
        arms=[control, *others],
        control=control.name,
        alpha=corrected,
        comparisons=[compare_arms(control, v, corrected, span) for v in others],
    )
