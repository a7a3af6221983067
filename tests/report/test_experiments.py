"""A/B statistics against values computed by hand or published in tables (no scipy in the product)."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from notion_feedback.report import experiments
from notion_feedback.report.kpi import GroupKpis


def test_normal_cdf_and_quantiles_match_the_standard_library() -> None:
    for x in (-3.0, -1.96, -0.5, 0.0, 0.7, 2.5758):
        assert experiments.normal_cdf(x) == pytest.approx(NormalDist().cdf(x), abs=1e-12)
    assert experiments.normal_ppf(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert experiments.normal_ppf(0.8) == pytest.approx(0.841621, abs=1e-6)


def test_student_t_p_values_match_tables() -> None:
    assert experiments.t_two_sided_p(1.0, 1) == pytest.approx(0.5, abs=1e-12)  # Cauchy: P(|T|>1) = 1/2
    assert experiments.t_two_sided_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)  # t table, df 10
    assert experiments.t_two_sided_p(2.0, 10) == pytest.approx(0.0733880, abs=1e-6)
    assert experiments.t_two_sided_p(2.042272, 30) == pytest.approx(0.05, abs=1e-6)
    assert experiments.t_two_sided_p(1.96, 1e9) == pytest.approx(0.0499958, abs=1e-6)  # the normal limit


def test_two_proportion_z_by_hand() -> None:
    r = experiments.two_proportion_z(50, 100, 65, 100)
    assert r is not None
    pooled = 115 / 200
    se = math.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert r.diff == pytest.approx(0.15) and r.se == pytest.approx(se)
    assert r.statistic == pytest.approx(2.14560, abs=1e-5) and r.p == pytest.approx(0.031905, abs=1e-5)
    assert r.significant
    assert experiments.two_proportion_z(100, 100, 100, 100) is None  # no variance: nothing to test
    assert experiments.two_proportion_z(0, 0, 5, 10) is None


def test_welch_by_hand() -> None:
    r = experiments.welch(30, 4.0, 1.0, 30, 4.5, 1.0)
    assert r is not None
    assert r.se == pytest.approx(math.sqrt(2 / 30)) and r.df == pytest.approx(58.0)
    assert r.statistic == pytest.approx(1.936492, abs=1e-6) and r.p == pytest.approx(0.057685, abs=1e-5)
    assert not r.significant
    # unequal variances and sizes: Welch-Satterthwaite df
    r2 = experiments.welch(10, 3.0, 2.0, 40, 3.8, 0.5)
    assert r2 is not None
    v1, v2 = 4 / 10, 0.25 / 40
    assert r2.df == pytest.approx((v1 + v2) ** 2 / (v1**2 / 9 + v2**2 / 39))


def test_sample_size_per_arm() -> None:
    # (1.96 + 0.8416)^2 * 2 / 0.5^2 = 62.8 -> 63
    assert experiments.sample_size_per_arm(1.0, 1.0, 0.5) == 63
    assert experiments.sample_size_per_arm(1.0, 1.0, 0.25) == 252


def _g(name: str, runs: int, err: float, avg: float | None, n: int, sd: float | None = 1.0) -> GroupKpis:
    return GroupKpis(name, runs, err, 800.0, 3000.0, 900.0, runs * 0.002, 0.002, avg, n, sd)


def test_significant_rating_difference_in_words() -> None:
    # population stdev 0.9 on 200 ratings each: sample sd 0.90225, se 0.0902, t 4.43
    exp = experiments.compare_variants([_g("A", 1000, 0.02, 4.0, 200, 0.9), _g("B", 1000, 0.02, 4.4, 200, 0.9)], 1, 5)
    assert exp is not None and exp.control == "A"
    [c] = exp.comparisons
    assert c.rating is not None and c.rating.significant and c.rating.p < 0.001
    assert c.verdict == "B rated 0.40 higher than A (4.40 vs 4.00), significant at 95 % (p<0.001)."
    assert c.ratings_needed is None


def test_too_few_ratings_says_how_many_more() -> None:
    exp = experiments.compare_variants([_g("A", 500, 0.02, 4.0, 12), _g("B", 500, 0.02, 4.4, 9)], 1, 5)
    assert exp is not None
    [c] = exp.comparisons
    assert c.rating is None
    # sample sds ~1.04 and 1.06; n for delta 0.4 ≈ 7.85*(1.09+1.125)/0.16 = 109 per arm; 9 in the smaller arm
    assert (
        c.ratings_needed == experiments.sample_size_per_arm(1.0 * math.sqrt(12 / 11), 1.0 * math.sqrt(9 / 8), 0.4) - 9
    )
    assert c.verdict.startswith(f"Not enough data yet: need ≈{c.ratings_needed:,} more ratings per arm")


def test_not_significant_with_enough_data_and_success_rate_test() -> None:
    exp = experiments.compare_variants([_g("A", 1000, 0.05, 4.0, 40, 1.0), _g("B", 1000, 0.08, 4.1, 40, 1.0)], 1, 5)
    assert exp is not None
    [c] = exp.comparisons
    assert c.rating is not None and not c.rating.significant
    assert "not significant" in c.verdict and "more ratings per arm to tell a difference of 0.10" in c.verdict
    assert c.success is not None and c.success.diff == pytest.approx(-0.03)
    assert c.success.statistic == pytest.approx(-0.03 / math.sqrt(0.065 * 0.935 * 0.002))  # -2.721
    assert c.success.p == pytest.approx(0.006507, abs=1e-5)
    assert any(line.startswith("Success rate: B 92.0% vs A 95.0% (-3.0 points, significant") for line in c.lines)


def test_three_arms_are_bonferroni_corrected_and_unlabelled_runs_ignored() -> None:
    groups = [_g("control", 900, 0.01, 4.0, 100), _g("x", 1000, 0.01, 4.3, 100), _g("y", 800, 0.01, 4.0, 100)]
    exp = experiments.compare_variants([*groups, _g("None", 50, 0.0, None, 0)], 1, 5)
    assert exp is not None and exp.control == "control" and exp.alpha == pytest.approx(0.025)
    assert [c.variant for c in exp.comparisons] == ["x", "y"]
    # p = 0.035 would pass at 95 %, but not at the 97.5 % that two comparisons against one control require
    assert exp.comparisons[0].rating is not None and 0.025 < exp.comparisons[0].rating.p < 0.05
    assert "not significant at 97.5 % (p=0.04)" in exp.comparisons[0].verdict
    assert experiments.compare_variants([_g("A", 10, 0.0, 4.0, 5)], 1, 5) is None


def test_missing_spread_uses_the_scale_worst_case() -> None:
    exp = experiments.compare_variants([_g("A", 400, 0.0, 4.0, 100, None), _g("B", 400, 0.0, 4.3, 100, None)], 1, 5)
    assert exp is not None
    [c] = exp.comparisons
    assert c.rating is not None and c.rating.se == pytest.approx(math.sqrt(4 / 100 + 4 / 100))
    assert "widest assumed" in c.verdict
