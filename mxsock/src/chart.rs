//! `mxsock bench --svg FILE`: the report as a chart, drawn with `plotters`'
//! SVG backend (text stays text, so the file needs no fonts to make and
//! can be searched).
//!
//! Two parts, one above the other:
//! - every row on one logarithmic axis, as figure / socketpair figure: the
//!   socketpair side is the line at 1, mx a dot, each reference bound a
//!   triangle named beside it, the target a bar. Rows where less is better
//!   (times, sizes) say so; there mx wants to be left of the line.
//! - the round trip's distribution, one panel per placement: for every
//!   time, the fraction of round trips that took at most that long, for mx,
//!   socketpair and the reference, on a logarithmic time axis.
//!
//! Only what the report holds is drawn; nothing is measured here.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::bench::{Better, Report, RoundTrips, Row};

/// The chart's width in pixels.
const WIDTH: u32 = 1100;
/// Height of one row in the upper part.
const ROW_HEIGHT: u32 = 44;
/// Height of the round-trip panels.
const CDF_HEIGHT: u32 = 380;
/// Points drawn per distribution curve.
const CDF_POINTS: usize = 400;

/// The colours of the series: mx, socketpair, the reference bounds and the
/// targets.
const MX: RGBColor = RGBColor(31, 119, 180);
const SOCKETPAIR: RGBColor = RGBColor(214, 39, 40);
const REFERENCE: RGBColor = RGBColor(44, 160, 44);
const TARGET: RGBColor = RGBColor(60, 60, 60);

/// What a plotters call can fail with, as text.
fn failed(error: impl std::fmt::Display) -> String {
    format!("drawing the chart: {error}")
}

/// The report as an SVG document.
pub(crate) fn svg(report: &Report) -> Result<String, String> {
    let rows: Vec<&Row> = report
        .rows
        .iter()
        .filter(|row| row.ratio.is_finite() && row.ratio > 0.0)
        .collect();
    let top = 140 + ROW_HEIGHT * rows.len().max(1) as u32;
    let bottom = if report.round_trips.is_empty() {
        0
    } else {
        CDF_HEIGHT
    };
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, top + bottom)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let (upper, lower) = root.split_vertically(top);
        ratios(&upper, report, &rows)?;
        if !report.round_trips.is_empty() {
            let panels = lower.split_evenly((1, report.round_trips.len()));
            for (panel, samples) in panels.iter().zip(&report.round_trips) {
                distribution(panel, samples)?;
            }
        }
        root.present().map_err(failed)?;
    }
    Ok(text)
}

/// Cuts `text` to `max` characters, marking the cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// A row's name on the chart.
fn row_name(row: &Row) -> String {
    let name = shorten(&row.label, 52);
    match row.better {
        Better::Higher => name,
        Better::Lower => format!("{name} (less is better)"),
    }
}

/// Tick marks for a logarithmic axis from `lo` to `hi`: 1, 2 and 5 times
/// the powers of ten in between.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powi(lo.log10().floor() as i32);
    while decade <= hi {
        for step in [1.0, 2.0, 5.0] {
            let tick = decade * step;
            if (lo..=hi).contains(&tick) {
                ticks.push(tick);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// A short number for tick labels.
fn tick(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').to_string()
    }
}

/// The vertical axis of the upper part: `n` rows, row `k` centred at
/// `y = n - 1 - k + 0.5` (the first row at the top), one tick per row.
#[derive(Clone, Debug)]
struct RowAxis {
    /// How many rows.
    n: usize,
}

impl RowAxis {
    /// Where row `k` sits.
    fn y(&self, k: usize) -> f64 {
        (self.n - 1 - k) as f64 + 0.5
    }

    /// The row at `y`, if any.
    fn row(&self, y: f64) -> Option<usize> {
        let from_bottom = y.floor();
        if !(0.0..self.n as f64).contains(&from_bottom) {
            return None;
        }
        Some(self.n - 1 - from_bottom as usize)
    }
}

impl Ranged for RowAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1 - limit.0);
        limit.0 + (span * value / self.n as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold points only: one grid line and one label per row.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            (0..self.n).map(|k| self.y(k)).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.n as f64
    }
}

impl ValueFormatter<f64> for RowAxis {
    fn format(_value: &f64) -> String {
        // Row names come from the chart's own label formatter.
        String::new()
    }
}

/// The upper part: every row as ratios to socketpair.
fn ratios<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &Report,
    rows: &[&Row],
) -> Result<(), String> {
    let n = rows.len().max(1);
    // Every value drawn, as a ratio to socketpair.
    let mut values = vec![1.0];
    for row in rows {
        values.push(row.ratio);
        values.extend(row.target.map(|t| t.ratio));
        values.extend(row.bounds.iter().map(|b| b.value / row.socketpair));
    }
    values.retain(|v| v.is_finite() && *v > 0.0);
    // Room on the left for the markers, on the right for the names beside
    // them.
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min) / 1.6;
    let hi = values.iter().copied().fold(0.0, f64::max) * 4.0;
    let axis = RowAxis { n };
    let y_of = |k: usize| axis.y(k);
    let names: Vec<String> = rows.iter().map(|row| row_name(row)).collect();
    let (strip, area) = area.split_vertically(64);
    legend(&strip, report)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(370)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            axis.clone(),
        )
        .map_err(failed)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_label_formatter(&|y| {
            axis.row(*y)
                .and_then(|k| names.get(k).cloned())
                .unwrap_or_default()
        })
        .x_label_formatter(&|x| format!("{}x", tick(*x)))
        .x_desc("figure / socketpair figure")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(failed)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(1.0, 0.0), (1.0, n as f64)],
            6,
            4,
            SOCKETPAIR.stroke_width(2),
        ))
        .map_err(failed)?;
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(k, row)| {
            let target = row.target?;
            Some(PathElement::new(
                [
                    (target.ratio, y_of(k) - 0.35),
                    (target.ratio, y_of(k) + 0.35),
                ],
                TARGET.stroke_width(3),
            ))
        }))
        .map_err(failed)?;
    chart
        .draw_series(rows.iter().enumerate().flat_map(|(k, row)| {
            let mut bounds: Vec<(f64, &str)> = row
                .bounds
                .iter()
                .map(|bound| (bound.value / row.socketpair, bound.name.as_str()))
                .filter(|(x, _)| x.is_finite() && *x > 0.0)
                .collect();
            bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
            bounds.into_iter().enumerate().map(move |(i, (x, name))| {
                // From left to right, names alternate above and below the
                // row, so that neighbours overlap less.
                let dy = if i % 2 == 0 { -20 } else { 6 };
                EmptyElement::at((x, y_of(k)))
                    + TriangleMarker::new((0, 0), 6, REFERENCE.filled())
                    + Text::new(
                        shorten(name, 30),
                        (4, dy),
                        ("sans-serif", 11).into_font().color(&REFERENCE),
                    )
            })
        }))
        .map_err(failed)?;
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(k, row)| Circle::new((row.ratio, y_of(k)), 6, MX.filled())),
        )
        .map_err(failed)?;
    Ok(())
}

/// The upper part's title and legend, on one line each, in pixels.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &Report,
) -> Result<(), String> {
    area.draw(&Text::new(
        format!(
            "{}: each row's figures divided by its socketpair figure (log scale)",
            report.tool
        ),
        (24, 10),
        ("sans-serif", 18),
    ))
    .map_err(failed)?;
    let font = ("sans-serif", 13).into_font();
    let y = 46;
    let mut x = 30;
    let mut item = |marker: DynElement<'static, DB, (i32, i32)>, name: &str| {
        area.draw(&(EmptyElement::at((x, y)) + marker))
            .and_then(|()| area.draw(&Text::new(name.to_string(), (x + 14, y - 7), font.clone())))
            .map_err(failed)?;
        x += 36 + 7 * name.chars().count() as i32;
        Ok::<(), String>(())
    };
    item(Circle::new((0, 0), 6, MX.filled()).into_dyn(), "mx")?;
    item(
        PathElement::new([(0, -8), (0, 8)], SOCKETPAIR.stroke_width(2)).into_dyn(),
        "socketpair (= 1)",
    )?;
    item(
        TriangleMarker::new((0, 0), 6, REFERENCE.filled()).into_dyn(),
        "reference bound",
    )?;
    item(
        PathElement::new([(0, -8), (0, 8)], TARGET.stroke_width(3)).into_dyn(),
        "target",
    )?;
    Ok(())
}

/// About [`CDF_POINTS`] points of the distribution of sorted `times` (in
/// nanoseconds): (microseconds, fraction of round trips at most that long).
fn cdf(times: &[u64]) -> Vec<(f64, f64)> {
    if times.is_empty() {
        return Vec::new();
    }
    let last = times.len() - 1;
    let mut points: Vec<(f64, f64)> = (0..=CDF_POINTS)
        .map(|q| {
            let i = q * last / CDF_POINTS;
            (
                times[i].max(1) as f64 / 1e3,
                (i + 1) as f64 / times.len() as f64,
            )
        })
        .collect();
    points.dedup();
    points
}

/// One panel of the lower part: a placement's round-trip distribution.
fn distribution<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    samples: &RoundTrips,
) -> Result<(), String> {
    let curves = [
        ("mx", MX, cdf(&samples.mx)),
        ("socketpair", SOCKETPAIR, cdf(&samples.socketpair)),
        (samples.reference.as_str(), REFERENCE, cdf(&samples.bound)),
    ];
    let all = || {
        curves
            .iter()
            .flat_map(|(_, _, points)| points.iter().map(|p| p.0))
    };
    let lo = all().fold(f64::INFINITY, f64::min);
    let hi = all().fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo / 1.3, hi * 1.3)
    } else {
        (0.1, 10.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("round trip, 1 byte, {}: distribution", samples.placement),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            0.0..1.0,
        )
        .map_err(failed)?;
    chart
        .configure_mesh()
        .x_desc("microseconds (log scale)")
        .y_desc("fraction of round trips at most that long")
        .x_label_formatter(&|x| tick(*x))
        .light_line_style(RGBColor(242, 242, 242))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(failed)?;
    for (name, colour, points) in curves {
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(failed)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(failed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::long_report;

    /// The text of every element of an SVG document.
    fn texts(svg: &str) -> Vec<String> {
        let document = roxmltree::Document::parse(svg).expect("the chart is XML");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        document
            .descendants()
            .filter_map(|node| node.text())
            .map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
            .collect()
    }

    #[test]
    fn the_chart_is_svg_with_every_series_named() {
        let report = long_report();
        let svg = svg(&report).expect("a chart");
        let texts = texts(&svg);
        for name in [
            "mx",
            "socketpair",
            "socketpair (= 1)",
            "target",
            "reference bound",
            "memcpy/2",
            "cache-line ping-pong",
            "yield ping-pong",
            "round trip, 1 byte, across CPUs: distribution",
        ] {
            assert!(texts.iter().any(|t| t == name), "no {name:?} in {texts:?}");
        }
    }

    #[test]
    fn a_report_without_round_trips_still_charts() {
        let mut report = long_report();
        report.round_trips.clear();
        report.rows.truncate(1);
        let texts = texts(&svg(&report).expect("a chart"));
        assert!(texts.iter().any(|t| t == "mx"));
        assert!(!texts.iter().any(|t| t.ends_with("distribution")));
    }

    #[test]
    fn rows_run_from_the_top() {
        let axis = RowAxis { n: 3 };
        assert_eq!((axis.y(0), axis.y(2)), (2.5, 0.5));
        assert_eq!(
            (axis.row(2.5), axis.row(0.5), axis.row(3.2)),
            (Some(0), Some(2), None)
        );
        assert_eq!(axis.map(&0.0, (400, 0)), 400);
        assert_eq!(axis.map(&3.0, (400, 0)), 0);
    }

    #[test]
    fn the_distribution_rises_to_one() {
        let times: Vec<u64> = (1..=10_000).collect();
        let points = cdf(&times);
        assert!(points.len() <= CDF_POINTS + 1);
        assert_eq!(points.first().copied(), Some((0.001, 1e-4)));
        assert_eq!(points.last().copied(), Some((10.0, 1.0)));
        assert!(points
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(log_ticks(0.3, 30.0), [0.5, 1.0, 2.0, 5.0, 10.0, 20.0]);
    }
}
