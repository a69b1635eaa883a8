"""The SVG line chart: well-formed XML, one line per series, points where the scale puts them, text escaped."""
import xml.etree.ElementTree as ET

import pytest

from remittance.domain.charts import (
    MARKERS_UP_TO,
    Series,
    labelled_indexes,
    line_chart,
    nice_step,
    tick_label,
    y_scale,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def lines(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}polyline")


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]


def tick_y(root: ET.Element) -> dict[int, float]:
    """Each y tick's value in cents and where it is drawn."""
    return {int(g.get("data-value")): float(g.get("y1")) for g in root.iter(f"{SVG}line") if g.get("class") == "grid"}


def chart(labels, *series, **kwargs) -> ET.Element:
    return parse(line_chart(labels, [Series(name, tuple(values)) for name, values in series],
                            title=kwargs.pop("title", "Balances"), **kwargs))


def test_a_chart_is_an_svg_with_its_id_and_title():
    root = chart(["2026-02", "2026-03"], ("Pool", [100_000_000, 99_000_000]), element_id="balance-chart",
                 title="XYZ balances")
    assert root.tag == f"{SVG}svg" and root.get("id") == "balance-chart"
    assert root.find(f"{SVG}title").text == "XYZ balances"
    assert root.get("aria-labelledby") == "balance-chart-title"


def test_one_line_per_series_named_in_the_legend():
    root = chart(["2026-02", "2026-03", "2026-04"], ("Pool", [3, 2, 1]), ("Class A1", [2, 1, 0]),
                 ("Class A2", [1, 1, 1]))
    assert [p.get("data-series") for p in lines(root)] == ["Pool", "Class A1", "Class A2"]
    legend = [t.find(f"{SVG}title").tail for t in root.iter(f"{SVG}text") if t.get("class") == "legend-label"]
    assert legend == ["Pool", "Class A1", "Class A2"]
    assert len({p.get("stroke") for p in lines(root)}) == 3


def test_points_sit_on_the_scale():
    root = chart(["2026-02", "2026-03", "2026-04"], ("Pool", [100_000_000, 60_000_000, 0]))
    ticks = tick_y(root)
    assert min(ticks) == 0 and max(ticks) == 100_000_000  # a nice range from zero to the top value
    (x0, y0), (x1, y1), (x2, y2) = points(lines(root)[0])
    assert y0 == ticks[100_000_000] and y1 == ticks[60_000_000] and y2 == ticks[0]
    assert x0 < x1 < x2 and x1 - x0 == pytest.approx(x2 - x1)  # periods evenly spaced


def test_values_between_ticks_are_proportional():
    root = chart(["a", "b"], ("s", [25_000, 75_000]))
    ticks = tick_y(root)
    bottom, top = ticks[0], ticks[max(ticks)]
    (_, y0), (_, y1) = points(lines(root)[0])
    assert (bottom - y0) / (bottom - top) == pytest.approx(25_000 / max(ticks), abs=0.001)
    assert (bottom - y1) / (bottom - top) == pytest.approx(75_000 / max(ticks), abs=0.001)


def test_one_period_is_a_single_point_with_a_marker():
    root = chart(["2026-02"], ("Pool", [99_900_450]), ("Class A", [99_900_450]))
    for polyline in lines(root):
        assert len(points(polyline)) == 1
    assert len(root.findall(f".//{SVG}circle")) == 2
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"] == ["2026-02"]


def test_all_balances_at_zero_still_draw_on_a_range():
    root = chart(["2026-02", "2026-03"], ("Pool", [0, 0]))
    ticks = tick_y(root)
    assert sorted(ticks) == [0, 100]  # zero to a dollar: never a range of nothing
    assert {y for _, y in points(lines(root)[0])} == {ticks[0]}


def test_many_periods_label_only_some_but_always_the_latest():
    labels = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(240)]
    root = chart(labels, ("Pool", list(range(240, 0, -1))))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"]
    assert 2 <= len(shown) <= 12 and shown[-1] == labels[-1]
    assert len(points(lines(root)[0])) == 240
    assert not root.findall(f".//{SVG}circle")  # too many points for markers
    assert MARKERS_UP_TO < 240


def test_text_from_data_is_escaped():
    svg = line_chart(["<2026>&"], [Series('A "<&>" \x07', (1,))], title="T&C <b>", element_id='x" onload="y')
    root = parse(svg)  # would not parse if anything were left unescaped
    assert "<b>" not in svg and 'onload="y"' not in svg
    assert root.get("id") == 'x" onload="y'
    assert root.find(f"{SVG}title").text == "T&C <b>"
    assert lines(root)[0].get("data-series") == 'A "<&>" \ufffd'
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"] == ["<2026>&"]


def test_a_long_name_is_cut_in_the_legend_but_kept_whole_in_its_title():
    name = "Class " + "M" * 40
    root = chart(["a"], (name, [1]))
    [entry] = [t for t in root.iter(f"{SVG}text") if t.get("class") == "legend-label"]
    assert entry.find(f"{SVG}title").text == name and entry.find(f"{SVG}title").tail == name[:21] + "…"
    assert lines(root)[0].get("data-series") == name


def test_more_series_than_colours_differ_by_dash():
    root = chart(["a"], *((f"S{i}", [i]) for i in range(9)))
    styles = {(p.get("stroke"), p.get("stroke-dasharray")) for p in lines(root)}
    assert len(styles) == 9


def test_no_periods_draws_empty_axes_with_a_note():
    svg = line_chart([], [Series("Pool", ())], title="Nothing yet", empty_text="no closed periods yet")
    assert "no closed periods yet" in svg and lines(parse(svg))[0].get("points") == ""


def test_series_must_match_the_labels():
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        line_chart(["a", "b"], [Series("Pool", (1,))], title="t")
    with pytest.raises(ValueError, match="integer cents"):
        line_chart(["a"], [Series("Pool", (1.5,))], title="t")


@pytest.mark.parametrize(("span", "step"), [(0, 100), (450, 100), (1_000_000, 200_000), (99_900_450, 20_000_000),
                                            (265_345_678, 100_000_000)])
def test_nice_steps(span, step):
    assert nice_step(span) == step


def test_y_scale_includes_zero_and_negatives():
    assert y_scale([99_900_450, 100_000_000]) == (0, 100_000_000, 20_000_000)
    assert y_scale([-150, 300]) == (-200, 300, 100)


@pytest.mark.parametrize(("cents", "text"), [(0, "$0"), (50_000, "$500"), (25_000_000, "$250k"),
                                             (120_000_000, "$1.2M"), (100_000_000, "$1M"), (-20_000, "-$200")])
def test_tick_labels_are_compact_dollars(cents, text):
    assert tick_label(cents) == text


def test_labelled_indexes_fit_the_width():
    assert labelled_indexes(3, 500) == [0, 1, 2]
    assert labelled_indexes(0, 500) == []
    picked = labelled_indexes(100, 512)
    assert picked[-1] == 99 and len(picked) <= 512 // 64 + 1
