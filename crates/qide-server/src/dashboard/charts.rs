//! SVG charts drawn on the server: stacked bars, a line, horizontal bars
//! and sparklines. Labels go through maud's escaping like any text; every
//! chart has a title for screen readers and a `<title>` per mark with its
//! exact numbers, and colours come from classes the stylesheet defines for
//! light and dark themes (and patterns tell series apart without colour).

use maud::{Markup, html};

/// Drawing area of the time charts, in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room for the y axis labels on the left and the x labels below.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// One series of a stacked bar: its name (shown in the legend and the
/// tooltips) and the class that colours it.
pub(super) struct Series<'a> {
    pub(super) name: &'a str,
    pub(super) class: &'a str,
}

/// A column of a time chart: its x label and one value per series.
pub(super) struct Column {
    pub(super) label: String,
    pub(super) values: Vec<f64>,
}

/// A round number at or above `max`, for the top of an axis.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn axis(top: f64, format: &dyn Fn(f64) -> String) -> Markup {
    let plot_h = HEIGHT - TOP - BOTTOM;
    html! {
        g.axis {
            @for i in 0..=2 {
                @let v = top * f64::from(i) / 2.0;
                @let y = TOP + plot_h - plot_h * f64::from(i) / 2.0;
                line.grid x1=(LEFT) x2=(WIDTH) y1=(y) y2=(y) {}
                text x=(LEFT - 4.0) y=(y + 4.0) text-anchor="end" { (format(v)) }
            }
        }
    }
}

/// A count on an axis: whole numbers bare, halves with one decimal.
fn count_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Which x labels to print so they do not overlap: about eight.
fn label_every(n: usize) -> usize {
    n.div_ceil(8).max(1)
}

/// The rectangles of one stacked column, bottom up: class, y and height.
fn stack<'a>(
    values: &[f64],
    series: &[Series<'a>],
    top: f64,
    plot_h: f64,
) -> Vec<(&'a str, f64, f64)> {
    let mut base = 0.0;
    let mut rects = Vec::new();
    for (s, v) in series.iter().zip(values) {
        if *v > 0.0 {
            let h = plot_h * v / top;
            rects.push((s.class, TOP + plot_h - plot_h * base / top - h, h));
        }
        base += v;
    }
    rects
}

/// Stacked bars over time (builds per outcome per bucket).
pub(super) fn stacked_bars(title: &str, series: &[Series<'_>], columns: &[Column]) -> Markup {
    let max = columns
        .iter()
        .map(|c| c.values.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let top = nice_max(max);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / columns.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let every = label_every(columns.len());
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                title { (title) }
                (axis(top, &count_label))
                @for (i, column) in columns.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
                    g {
                        title {
                            (column.label) ": "
                            @for (s, v) in series.iter().zip(&column.values) { (s.name) " " (v) "; " }
                        }
                        @for (class, y, h) in stack(&column.values, series, top, plot_h) {
                            rect class=(class) x=(x) y=(y) width=(bar) height=(h) {}
                        }
                    }
                    @if i % every == 0 {
                        text.x x=(x + bar / 2.0) y=(HEIGHT - 6.0) text-anchor="middle" { (column.label) }
                    }
                }
            }
            figcaption {
                (title) ": "
                @for s in series { span class={ "key " (s.class) } { "\u{25a0} " } (s.name) " " }
            }
        }
    }
}

/// A line over time; `None` values leave a gap. `format` writes axis and
/// tooltip values.
pub(super) fn line(
    title: &str,
    class: &str,
    points: &[(String, Option<f64>)],
    fixed_top: Option<f64>,
    format: &dyn Fn(f64) -> String,
) -> Markup {
    let max = points.iter().filter_map(|(_, v)| *v).fold(0.0, f64::max);
    let top = fixed_top.unwrap_or_else(|| nice_max(max));
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / points.len().max(1) as f64;
    let xy = |i: usize, v: f64| {
        (
            LEFT + slot * i as f64 + slot / 2.0,
            TOP + plot_h - plot_h * (v / top).clamp(0.0, 1.0),
        )
    };
    // Runs of consecutive values become one polyline each.
    let mut runs: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => {
                let (x, y) = xy(i, *v);
                current.push_str(&format!("{x:.1},{y:.1} "));
            }
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    let every = label_every(points.len());
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                title { (title) }
                (axis(top, format))
                @for run in &runs { polyline class={ "line " (class) } points=(run) {} }
                @for (i, (label, v)) in points.iter().enumerate() {
                    @if let Some(v) = v {
                        @let (x, y) = xy(i, *v);
                        circle class={ "dot " (class) } cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" {
                            title { (label) ": " (format(*v)) }
                        }
                    }
                    @if i % every == 0 {
                        text.x x=(xy(i, 0.0).0) y=(HEIGHT - 6.0) text-anchor="middle" { (label) }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Horizontal bars: one labelled row per item, for counts by category.
pub(super) fn hbars(title: &str, class: &str, items: &[(String, f64)]) -> Markup {
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let row = 22.0;
    let label_w = 150.0;
    let height = row * items.len().max(1) as f64 + 4.0;
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label=(title) {
                title { (title) }
                @for (i, (label, v)) in items.iter().enumerate() {
                    @let y = row * i as f64 + 2.0;
                    @let w = (WIDTH - label_w - 50.0) * v / max;
                    g {
                        title { (label) ": " (v) }
                        text x=(label_w - 6.0) y=(y + 15.0) text-anchor="end" { (label) }
                        rect class=(class) x=(label_w) y=(y + 3.0) width=(w.max(1.0)) height=(row - 6.0) {}
                        text x=(label_w + w + 6.0) y=(y + 15.0) { (v) }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// A small bar sparkline of counts per bucket, oldest first.
pub(super) fn sparkline(label: &str, values: &[i64]) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let w = 4.0;
    let h = 18.0;
    let total: i64 = values.iter().sum();
    html! {
        svg.spark viewBox={ "0 0 " (w * values.len() as f64) " " (h) } width=(w * values.len() as f64) height=(h)
            role="img" aria-label={ (label) ": " (total) " in the period" } {
            title { (label) ": " (total) " in the period" }
            @for (i, v) in values.iter().enumerate() {
                @let bh = if *v > 0 { (h - 1.0) * (*v as f64) / max + 1.0 } else { 0.0 };
                @if *v > 0 {
                    rect x=(w * i as f64) y=(h - bh) width=(w - 1.0) height=(bh) {}
                } @else {
                    rect.zero x=(w * i as f64) y=(h - 1.0) width=(w - 1.0) height="1" {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(240.0), 250.0);
    }

    #[test]
    fn labels_in_charts_are_escaped() {
        let svg = hbars("by <category>", "c1", &[("<img src=x>".to_owned(), 3.0)]).into_string();
        assert!(svg.contains("&lt;img src=x&gt;"));
        assert!(!svg.contains("<img"));
        let spark = sparkline("fp", &[0, 2, 1]).into_string();
        assert_eq!(spark.matches("<rect").count(), 3);
    }

    #[test]
    fn a_line_breaks_at_missing_values() {
        let points = vec![
            ("a".to_owned(), Some(1.0)),
            ("b".to_owned(), None),
            ("c".to_owned(), Some(2.0)),
            ("d".to_owned(), Some(2.0)),
        ];
        let svg = line("t", "c1", &points, None, &|v| format!("{v}")).into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
    }
}
