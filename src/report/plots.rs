//! The report's plots, each written as PNG and SVG into `<report dir>/plots/`.
//!
//! Every plot is drawn by one backend-independent routine so the PNG and the SVG always
//! show the same thing. Text uses the bundled DejaVu Sans (registered with plotters at
//! first use), so layout and rasterised glyphs never depend on the fonts of the machine.
//! A placement keeps one colour in every plot: the palette is indexed by the placement's
//! order of first appearance in `summary.json`.
//!
//! Plots whose data a run did not produce (KSM counters, SLO violation fractions, sweeps)
//! are left out rather than drawn empty.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontFamily, FontStyle, register_font};

use crate::diagnostics::{Error, Result};
use crate::model::slo::Slo;
use crate::report::saved::TimelineRow;
use crate::report::summary::{ConfigSummary, Summary};

const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The name the bundled font is registered under. plotters writes it verbatim into SVG
/// `font-family`, so it doubles as a CSS fallback list for SVG viewers.
const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Tableau 10: distinguishable, colour-blind-aware, and readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Breakdown components get their own palette so "useful" is always the same green and
/// overheads stay distinct from it.
const USEFUL: RGBColor = RGBColor(0x59, 0xA1, 0x4F);
const COMPONENT_PALETTE: [RGBColor; 9] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0xBA, 0xB0, 0xAC),
];

const WIDTH: u32 = 1200;
const GREY: RGBColor = RGBColor(0x70, 0x70, 0x70);
/// More sweep plots than this would drown the report; the rest are listed as left out.
const MAX_SWEEP_PLOTS: usize = 40;

type DrawResult<T = ()> = std::result::Result<T, Box<dyn StdError>>;

fn ensure_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    if *OK.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()) {
        Ok(())
    } else {
        Err(Error::Runtime(
            "the bundled font could not be loaded".into(),
        ))
    }
}

fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

fn text_width(s: &str, size: f64) -> u32 {
    font(size).box_size(s).map(|(w, _)| w).unwrap_or(0)
}

/// A plot written to disk, for the HTML report.
#[derive(Clone, Debug)]
pub(crate) struct PlotFile {
    pub(crate) stem: String,
    pub(crate) title: String,
    pub(crate) caption: String,
    pub(crate) png: PathBuf,
    pub(crate) svg: PathBuf,
}

/// What was drawn, and what was left out (and why).
#[derive(Clone, Debug, Default)]
pub(crate) struct PlotSet {
    pub(crate) plots: Vec<PlotFile>,
    pub(crate) left_out: Vec<String>,
}

/// Fixed colour per placement: index of first appearance in the summary.
pub(crate) struct Colours {
    placements: Vec<String>,
}

impl Colours {
    pub(crate) fn new(s: &Summary) -> Colours {
        let mut placements: Vec<String> = vec![];
        for c in &s.configurations {
            if !placements.contains(&c.placement) {
                placements.push(c.placement.clone());
            }
        }
        Colours { placements }
    }

    pub(crate) fn of(&self, placement: &str) -> RGBColor {
        let i = self
            .placements
            .iter()
            .position(|p| p == placement)
            .unwrap_or(self.placements.len());
        PALETTE[i % PALETTE.len()]
    }

    fn legend(&self, names: &[&str], swatch: Swatch) -> Vec<LegendItem> {
        self.placements
            .iter()
            .filter(|p| names.contains(&p.as_str()))
            .map(|p| LegendItem {
                label: p.clone(),
                colour: self.of(p),
                swatch,
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Swatch {
    Box,
    Line,
    Dashed,
}

#[derive(Clone, Debug)]
struct LegendItem {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

/// Title, subtitle and a wrapped legend across the top of a figure.
struct Header {
    title: String,
    subtitle: String,
    legend: Vec<LegendItem>,
}

const LEGEND_ROW: u32 = 26;

impl Header {
    fn legend_rows(&self) -> Vec<Vec<(u32, &LegendItem)>> {
        let mut rows: Vec<Vec<(u32, &LegendItem)>> = vec![vec![]];
        let mut x = 24;
        for it in &self.legend {
            let w = 30 + text_width(&it.label, 15.0) + 26;
            if x + w > WIDTH - 24 && x > 24 {
                rows.push(vec![]);
                x = 24;
            }
            if let Some(r) = rows.last_mut() {
                r.push((x, it));
            }
            x += w;
        }
        rows.retain(|r| !r.is_empty());
        rows
    }

    fn height(&self) -> u32 {
        let sub = if self.subtitle.is_empty() { 0 } else { 24 };
        14 + 30 + sub + 8 + self.legend_rows().len() as u32 * LEGEND_ROW + 6
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let centre = Pos::new(HPos::Center, VPos::Top);
        root.draw(&Text::new(
            self.title.clone(),
            (WIDTH as i32 / 2, 14),
            TextStyle::from(font(24.0)).pos(centre),
        ))?;
        let mut y = 14 + 30;
        if !self.subtitle.is_empty() {
            root.draw(&Text::new(
                self.subtitle.clone(),
                (WIDTH as i32 / 2, y),
                TextStyle::from(font(15.0)).color(&GREY).pos(centre),
            ))?;
            y += 24;
        }
        y += 8;
        for row in self.legend_rows() {
            for (x, it) in row {
                let (x, yc) = (x as i32, y + 10);
                match it.swatch {
                    Swatch::Box => {
                        root.draw(&Rectangle::new(
                            [(x, yc - 8), (x + 22, yc + 8)],
                            it.colour.filled(),
                        ))?;
                    }
                    Swatch::Line => {
                        root.draw(&PathElement::new(
                            vec![(x, yc), (x + 22, yc)],
                            it.colour.stroke_width(3),
                        ))?;
                    }
                    Swatch::Dashed => {
                        for k in 0..3 {
                            root.draw(&PathElement::new(
                                vec![(x + k * 9, yc), (x + k * 9 + 5, yc)],
                                it.colour.stroke_width(3),
                            ))?;
                        }
                    }
                }
                root.draw(&Text::new(
                    it.label.clone(),
                    (x + 30, yc),
                    TextStyle::from(font(15.0)).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
            y += LEGEND_ROW as i32;
        }
        Ok(())
    }
}

/// A figure drawable on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

fn emit<F: Figure>(f: &F, dir: &Path, stem: &str, title: &str, caption: &str) -> Result<PlotFile> {
    let size = f.size();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let fail =
        |what: &Path, e: Box<dyn StdError>| Error::Runtime(format!("draw {}: {e}", what.display()));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        let r: DrawResult = (|| {
            root.fill(&WHITE)?;
            f.draw(&root)?;
            root.present()?;
            Ok(())
        })();
        r.map_err(|e| fail(&png, e))?;
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        let r: DrawResult = (|| {
            root.fill(&WHITE)?;
            f.draw(&root)?;
            root.present()?;
            Ok(())
        })();
        r.map_err(|e| fail(&svg, e))?;
    }
    std::fs::write(&svg, text).map_err(|e| Error::io(&format!("write {}", svg.display()), e))?;
    Ok(PlotFile {
        stem: stem.to_string(),
        title: title.to_string(),
        caption: caption.to_string(),
        png,
        svg,
    })
}

/// A linear f64 axis with exactly the tick positions we choose (bar rows, categories,
/// round numbers): plotters' own key points can land between categories.
#[derive(Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span <= 0.0 || !v.is_finite() {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / span;
        let px = f64::from(limit.1 - limit.0) * f;
        limit.0 + px.round().clamp(-1e6, 1e6) as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold (labelled) lines; light grid lines would repeat them.
        if hint.weight().allow_light_points() && hint.max_num_points() > 0 {
            return vec![];
        }
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(v: &f64) -> String {
        num(*v)
    }
}

fn axis(lo: f64, hi: f64, ticks: Vec<f64>) -> Axis {
    Axis { lo, hi, ticks }
}

// ---------------------------------------------------------------------------------------
// Horizontal bars (density, CPU and memory breakdowns): long placement names stay
// horizontal and readable, one panel per host type.

struct BarRow {
    label: String,
    /// Stacked segments from zero.
    segments: Vec<(f64, RGBColor)>,
    /// Confidence interval around the bar's end.
    ci: Option<(f64, f64)>,
    note: String,
}

struct HBars {
    header: Header,
    x_desc: String,
    panels: Vec<(String, Vec<BarRow>)>,
}

const BAR_ROW_H: u32 = 40;
const BAR_PANEL_EXTRA: u32 = 36 + 64;

impl HBars {
    fn label_area(&self) -> u32 {
        let w = self
            .panels
            .iter()
            .flat_map(|(_, rows)| rows.iter())
            .map(|r| text_width(&r.label, 15.0))
            .max()
            .unwrap_or(0);
        (w + 24).clamp(80, WIDTH * 2 / 5)
    }

    fn x_max(&self) -> f64 {
        let plot_w = f64::from(WIDTH - self.label_area() - 24 - 36);
        let mut xmax: f64 = 0.0;
        for r in self.panels.iter().flat_map(|(_, rows)| rows.iter()) {
            let end: f64 = r.segments.iter().map(|s| s.0.max(0.0)).sum();
            let end = r.ci.map_or(end, |(_, hi)| hi.max(end));
            let note = f64::from(text_width(&r.note, 14.0) + 18);
            // Leave room right of each bar for its note, in data units.
            let need = if plot_w > note + 20.0 {
                end * plot_w / (plot_w - note)
            } else {
                end * 2.0
            };
            xmax = xmax.max(need).max(end * 1.05);
        }
        if xmax.is_finite() && xmax > 0.0 {
            xmax
        } else {
            1.0
        }
    }
}

impl Figure for HBars {
    fn size(&self) -> (u32, u32) {
        let h: u32 = self
            .panels
            .iter()
            .map(|(_, r)| r.len() as u32 * BAR_ROW_H + BAR_PANEL_EXTRA)
            .sum();
        (WIDTH, self.header.height() + h + 10)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.header.draw(root)?;
        let (_, mut rest) = root.split_vertically(self.header.height());
        let label_w = self.label_area();
        let xmax = self.x_max();
        for (caption, rows) in &self.panels {
            let n = rows.len();
            let h = n as u32 * BAR_ROW_H + BAR_PANEL_EXTRA;
            let (panel, r) = rest.split_vertically(h);
            rest = r;
            let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
            let mut chart = ChartBuilder::on(&panel)
                .caption(caption, font(18.0))
                .margin(6)
                .margin_left(12)
                .margin_right(36)
                .x_label_area_size(52)
                .y_label_area_size(label_w)
                .build_cartesian_2d(
                    axis(0.0, xmax, nice_ticks(0.0, xmax, 10)),
                    axis(0.0, n as f64, centres),
                )?;
            // Row 0 is drawn at the top.
            let label_at = |y: &f64| -> String {
                let i = n as i64 - 1 - y.floor() as i64;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| rows.get(i))
                    .map(|r| r.label.clone())
                    .unwrap_or_default()
            };
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(self.x_desc.as_str())
                .x_label_style(font(14.0))
                .y_label_style(font(15.0))
                .axis_desc_style(font(15.0))
                .x_label_formatter(&|x: &f64| num(*x))
                .y_label_formatter(&label_at)
                .draw()?;
            for (i, row) in rows.iter().enumerate() {
                let yc = (n - 1 - i) as f64 + 0.5;
                let mut x0 = 0.0;
                for &(v, c) in &row.segments {
                    let v = v.max(0.0);
                    if v > 0.0 {
                        chart.draw_series(std::iter::once(Rectangle::new(
                            [(x0, yc - 0.3), (x0 + v, yc + 0.3)],
                            c.filled(),
                        )))?;
                    }
                    x0 += v;
                }
                let mut end = x0;
                if let Some((lo, hi)) = row.ci
                    && hi > lo
                {
                    let style = BLACK.stroke_width(2);
                    chart.draw_series([
                        PathElement::new(vec![(lo, yc), (hi, yc)], style),
                        PathElement::new(vec![(lo, yc - 0.15), (lo, yc + 0.15)], style),
                        PathElement::new(vec![(hi, yc - 0.15), (hi, yc + 0.15)], style),
                    ])?;
                    end = end.max(hi);
                }
                if !row.note.is_empty() {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((end, yc))
                            + Text::new(
                                row.note.clone(),
                                (8, 0),
                                TextStyle::from(font(14.0)).pos(Pos::new(HPos::Left, VPos::Center)),
                            ),
                    ))?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Line panels (CDFs, sweeps, SLO vs density, timelines): one panel per host type, shared
// axes so panels compare at a glance.

#[derive(Clone, Debug, Default)]
struct Series {
    colour: RGBColor,
    dashed: bool,
    markers: bool,
    points: Vec<(f64, f64)>,
    /// Confidence band `(x, lo, hi)`.
    band: Vec<(f64, f64, f64)>,
    /// Vertical error bars `(x, lo, hi)`.
    whiskers: Vec<(f64, f64, f64)>,
}

#[derive(Clone, Debug, Default)]
struct Panel {
    caption: String,
    y_desc: Option<String>,
    series: Vec<Series>,
    /// Reference lines (an SLO bound) with a label.
    vline: Option<(f64, String)>,
    hline: Option<(f64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum XAxis {
    Linear,
    Log,
    /// Categories at 0, 1, 2, …
    Categories,
}

struct Lines {
    header: Header,
    x_desc: String,
    y_desc: String,
    x_axis: XAxis,
    categories: Vec<String>,
    /// Fixed y range (CDFs: 0..1) instead of fitting the data.
    y_fixed: Option<(f64, f64)>,
    /// y from zero (densities, memory) rather than fitted tightly.
    y_from_zero: bool,
    share_y: bool,
    columns: usize,
    panel_h: u32,
    panels: Vec<Panel>,
    x_fmt: fn(f64) -> String,
    y_fmt: fn(f64) -> String,
}

/// Round, readable tick positions covering `lo..hi`.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn nice_range(lo: f64, hi: f64, from_zero: bool) -> (f64, f64) {
    let (mut lo, hi) = (lo, hi);
    if from_zero {
        lo = lo.min(0.0);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 * hi.abs().max(1.0) {
        let pad = (hi.abs() * 0.05).max(0.01);
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.06;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// Trims a number for an axis label: 1, 2.5, 0.05, 12000.
pub(crate) fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    // Four decimals resolve ticks like 1.015 or 0.0025; trailing zeros are trimmed.
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn pct(v: f64) -> String {
    format!("{}%", num(v * 100.0))
}

impl Lines {
    fn x_of(&self, x: f64) -> Option<f64> {
        match self.x_axis {
            XAxis::Log => (x > 0.0 && x.is_finite()).then(|| x.log10()),
            _ => x.is_finite().then_some(x),
        }
    }

    fn x_range(&self) -> (f64, f64, Vec<f64>) {
        if self.x_axis == XAxis::Categories {
            let k = self.categories.len().max(1);
            return (-0.5, k as f64 - 0.5, (0..k).map(|i| i as f64).collect());
        }
        let xs: Vec<f64> = self
            .panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)))
            .filter_map(|x| self.x_of(x))
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if self.x_axis == XAxis::Log {
            // Whole decades, with 2 and 5 in between when the range is short.
            let (mut a, mut b) = (lo.floor(), hi.ceil());
            if !(a.is_finite() && b.is_finite()) {
                (a, b) = (-1.0, 1.0);
            }
            if b <= a {
                b = a + 1.0;
            }
            let mut ticks = vec![];
            let mut d = a as i32;
            while f64::from(d) <= b {
                ticks.push(f64::from(d));
                if b - a <= 3.0 && f64::from(d) < b {
                    ticks.push(f64::from(d) + 2f64.log10());
                    ticks.push(f64::from(d) + 5f64.log10());
                }
                d += 1;
            }
            return (a, b, ticks);
        }
        let (a, b) = nice_range(lo, hi, false);
        (a, b, nice_ticks(a, b, 8))
    }

    fn y_range(&self, panels: &[&Panel]) -> (f64, f64) {
        if let Some(r) = self.y_fixed {
            return r;
        }
        let ys: Vec<f64> = panels
            .iter()
            .flat_map(|p| {
                p.series.iter().flat_map(|s| {
                    s.points
                        .iter()
                        .map(|q| q.1)
                        .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
                        .chain(s.whiskers.iter().flat_map(|b| [b.1, b.2]))
                })
            })
            .chain(panels.iter().filter_map(|p| p.hline.as_ref().map(|h| h.0)))
            .filter(|y| y.is_finite())
            .collect();
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        nice_range(lo, hi, self.y_from_zero)
    }
}

impl Figure for Lines {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        (WIDTH, self.header.height() + rows * self.panel_h + 8)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.header.draw(root)?;
        let (_, body) = root.split_vertically(self.header.height());
        let cols = self.columns.max(1);
        let rows = self.panels.len().div_ceil(cols);
        let areas = body.split_evenly((rows, cols));
        let (x0, x1, xticks) = self.x_range();
        let all: Vec<&Panel> = self.panels.iter().collect();
        let shared = self.y_range(&all);
        // Category labels are rotated when they would not fit side by side.
        let slot = f64::from(WIDTH) / cols as f64 / self.categories.len().max(1) as f64;
        let widest = self
            .categories
            .iter()
            .map(|c| text_width(c, 13.0))
            .max()
            .unwrap_or(0);
        let rotate = self.x_axis == XAxis::Categories && f64::from(widest) > slot * 0.9;
        let x_area = if rotate { widest.min(160) + 40 } else { 52 };
        for (p, area) in self.panels.iter().zip(areas.iter()) {
            let (y0, y1) = if self.share_y {
                shared
            } else {
                self.y_range(&[p])
            };
            let yticks = nice_ticks(y0, y1, 6);
            let mut chart = ChartBuilder::on(area)
                .caption(&p.caption, font(18.0))
                .margin(8)
                .margin_right(28)
                .x_label_area_size(x_area)
                .y_label_area_size(84)
                .build_cartesian_2d(axis(x0, x1, xticks.clone()), axis(y0, y1, yticks))?;
            let x_axis = self.x_axis;
            let cats = &self.categories;
            let xf = self.x_fmt;
            let x_label = move |x: &f64| -> String {
                match x_axis {
                    XAxis::Log => xf(10f64.powf(*x)),
                    XAxis::Linear => xf(*x),
                    XAxis::Categories => cats
                        .get(x.round().max(0.0) as usize)
                        .cloned()
                        .unwrap_or_default(),
                }
            };
            let yf = self.y_fmt;
            let y_label = move |y: &f64| yf(*y);
            let x_style = if rotate {
                TextStyle::from(font(13.0).transform(FontTransform::Rotate90))
                    .pos(Pos::new(HPos::Left, VPos::Center))
            } else {
                TextStyle::from(font(14.0))
            };
            let y_desc = p.y_desc.clone().unwrap_or_else(|| self.y_desc.clone());
            chart
                .configure_mesh()
                .x_desc(self.x_desc.as_str())
                .y_desc(y_desc)
                .x_label_style(x_style)
                .y_label_style(font(14.0))
                .axis_desc_style(font(15.0))
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.12))
                .draw()?;
            let tx = |x: f64| self.x_of(x);
            if let Some((x, _)) = &p.vline
                && let Some(x) = tx(*x)
                && x >= x0
                && x <= x1
            {
                chart.draw_series(DashedLineSeries::new(
                    vec![(x, y0), (x, y1)],
                    8,
                    6,
                    GREY.stroke_width(2),
                ))?;
            }
            if let Some((y, label)) = &p.hline {
                chart.draw_series(DashedLineSeries::new(
                    vec![(x0, *y), (x1, *y)],
                    8,
                    6,
                    GREY.stroke_width(2),
                ))?;
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x0, *y))
                        + Text::new(
                            label.clone(),
                            (6, -4),
                            TextStyle::from(font(13.0))
                                .color(&GREY)
                                .pos(Pos::new(HPos::Left, VPos::Bottom)),
                        ),
                ))?;
            }
            let ns = p.series.len();
            for (si, s) in p.series.iter().enumerate() {
                // Earlier series are drawn wider, so a later one lying exactly on top of
                // it (equal results) leaves it visible as an outline.
                let width = (2 + ns - 1 - si).min(6) as u32;
                let band: Vec<(f64, f64, f64)> = s
                    .band
                    .iter()
                    .filter_map(|&(x, lo, hi)| Some((tx(x)?, lo, hi)))
                    .filter(|b| b.1.is_finite() && b.2.is_finite())
                    .collect();
                if band.len() >= 2 {
                    let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
                    poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
                    chart.draw_series(std::iter::once(Polygon::new(
                        poly,
                        s.colour.mix(0.18).filled(),
                    )))?;
                }
                let pts: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter_map(|&(x, y)| Some((tx(x)?, y)))
                    .filter(|p| p.1.is_finite())
                    .collect();
                if s.dashed {
                    chart.draw_series(DashedLineSeries::new(
                        pts.clone(),
                        10,
                        6,
                        s.colour.stroke_width(width),
                    ))?;
                } else {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), s.colour.stroke_width(width)))?;
                }
                if s.markers {
                    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, s.colour.filled())))?;
                }
                for &(x, lo, hi) in &s.whiskers {
                    let Some(x) = tx(x) else { continue };
                    if hi > lo {
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            s.colour.stroke_width(2),
                        )))?;
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Building the figures from a summary.

fn metric<'a>(c: &'a ConfigSummary, name: &str) -> Option<&'a crate::report::summary::Estimate> {
    c.estimate(name)
}

fn mean(c: &ConfigSummary, name: &str) -> Option<f64> {
    metric(c, name)
        .and_then(|e| e.mean)
        .filter(|x| x.is_finite())
}

fn host_types(s: &Summary) -> Vec<String> {
    let mut v: Vec<String> = vec![];
    for c in &s.configurations {
        if !v.contains(&c.host_type) {
            v.push(c.host_type.clone());
        }
    }
    v
}

fn points(s: &Summary) -> Vec<u64> {
    let mut v: Vec<u64> = vec![];
    for c in &s.configurations {
        if !v.contains(&c.point) {
            v.push(c.point);
        }
    }
    v
}

/// The configurations of the first sweep point (all of them for a plain run).
fn first_point(s: &Summary) -> Vec<&ConfigSummary> {
    let p = s.configurations.first().map(|c| c.point);
    s.configurations
        .iter()
        .filter(|c| Some(c.point) == p)
        .collect()
}

fn point_note(s: &Summary) -> String {
    if points(s).len() <= 1 {
        return String::new();
    }
    match s.configurations.first() {
        Some(c) if !c.axis_values.is_empty() => {
            let a: Vec<String> = c
                .axis_values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            format!("; sweep point {} ({})", c.point, a.join(", "))
        }
        Some(c) => format!("; sweep point {}", c.point),
        None => String::new(),
    }
}

fn reps_note(s: &Summary) -> String {
    if s.replications >= 2 {
        format!(
            "mean ± {:.0}% confidence half-width over {} replications",
            s.confidence * 100.0,
            s.replications
        )
    } else {
        "1 replication: no confidence interval (run with --replications N for one)".into()
    }
}

fn safe_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn density(s: &Summary, colours: &Colours) -> Option<HBars> {
    let cfgs = first_point(s);
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for h in host_types(s) {
        let rows: Vec<BarRow> = cfgs
            .iter()
            .filter(|c| c.host_type == h)
            .filter_map(|c| {
                let e = metric(c, "density_per_host")?;
                let m = e.mean.filter(|x| x.is_finite())?;
                names.push(&c.placement);
                let hw = e.half_width.filter(|x| x.is_finite() && *x > 0.0);
                Some(BarRow {
                    label: c.placement.clone(),
                    segments: vec![(m, colours.of(&c.placement))],
                    ci: hw.map(|w| (m - w, m + w)),
                    note: match hw {
                        Some(w) => format!("{m:.1} ± {w:.1}"),
                        None => format!("{m:.1}"),
                    },
                })
            })
            .collect();
        if !rows.is_empty() {
            panels.push((format!("host type: {h}"), rows));
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(HBars {
        header: Header {
            title: "Density: workloads per host in use".into(),
            subtitle: format!("{}{}", reps_note(s), point_note(s)),
            legend: colours.legend(&names, Swatch::Box),
        },
        x_desc: "workloads per host in use (time-weighted mean)".into(),
        panels,
    })
}

/// Orders breakdown components: useful work first, then layers, hypervisors, ksmd, steal,
/// then anything else in the order the summary lists it.
fn component_rank(k: &str) -> u8 {
    if k == "useful" || k == "workload_memory" {
        0
    } else if k.starts_with("layer:") {
        2
    } else if k.starts_with("hypervisor:") {
        3
    } else if k == "ksmd" {
        4
    } else if k == "steal" {
        5
    } else {
        1
    }
}

fn breakdown(
    s: &Summary,
    prefix: &str,
    scale: f64,
    title: &str,
    x_desc: &str,
    useful_key: &str,
    unit: &str,
) -> Option<HBars> {
    let cfgs = first_point(s);
    let mut comps: Vec<String> = vec![];
    for c in &cfgs {
        for (k, e) in &c.metrics {
            if let Some(rest) = k.strip_prefix(prefix)
                && e.mean.is_some()
                && !comps.iter().any(|x| x == rest)
            {
                comps.push(rest.to_string());
            }
        }
    }
    comps.sort_by_key(|k| component_rank(k)); // stable: keeps summary order within a rank
    if comps.is_empty() {
        return None;
    }
    let mut others = COMPONENT_PALETTE.iter().cycle();
    let colour_of: Vec<(String, RGBColor)> = comps
        .iter()
        .map(|k| {
            let c = if k == useful_key {
                USEFUL
            } else {
                *others.next().unwrap_or(&GREY)
            };
            (k.clone(), c)
        })
        .collect();
    let mut panels = vec![];
    for h in host_types(s) {
        let rows: Vec<BarRow> = cfgs
            .iter()
            .filter(|c| c.host_type == h)
            .filter_map(|c| {
                let segs: Vec<(f64, RGBColor)> = colour_of
                    .iter()
                    .filter_map(|(k, col)| Some((mean(c, &format!("{prefix}{k}"))? * scale, *col)))
                    .collect();
                if segs.is_empty() {
                    return None;
                }
                let total: f64 = segs.iter().map(|x| x.0.max(0.0)).sum();
                let useful = mean(c, &format!("{prefix}{useful_key}")).map(|x| x * scale);
                let note = match useful {
                    Some(u) if total > 0.0 => format!(
                        "{:.1} {unit}; {} {:.0}%",
                        total,
                        useful_key.replace('_', " "),
                        u / total * 100.0
                    ),
                    _ => format!("{total:.1} {unit}"),
                };
                Some(BarRow {
                    label: c.placement.clone(),
                    segments: segs,
                    ci: None,
                    note,
                })
            })
            .collect();
        if !rows.is_empty() {
            panels.push((format!("host type: {h}"), rows));
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(HBars {
        header: Header {
            title: title.into(),
            subtitle: format!(
                "means over {} replication(s){}",
                s.replications,
                point_note(s)
            ),
            legend: colour_of
                .iter()
                .map(|(k, c)| LegendItem {
                    label: k.replace('_', " "),
                    colour: *c,
                    swatch: Swatch::Box,
                })
                .collect(),
        },
        x_desc: x_desc.into(),
        panels,
    })
}

/// `labels`: title, x description, y description. `slo`: the bound (x), its label and
/// the quantile it applies to, drawn as dashed reference lines.
fn cdf(
    s: &Summary,
    colours: &Colours,
    pick: fn(&ConfigSummary) -> &Vec<[f64; 2]>,
    log: bool,
    [title, x_desc, y_desc]: [&str; 3],
    slo: Option<(f64, String, f64)>,
) -> Option<Lines> {
    let vline = slo.as_ref().map(|(x, l, _)| (*x, l.clone()));
    let hline = slo
        .as_ref()
        .map(|(_, _, q)| (*q, format!("{}%", num(q * 100.0))));
    let cfgs = first_point(s);
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for h in host_types(s) {
        let series: Vec<Series> = cfgs
            .iter()
            .filter(|c| c.host_type == h && !pick(c).is_empty())
            .map(|c| {
                names.push(&c.placement);
                Series {
                    colour: colours.of(&c.placement),
                    points: pick(c).iter().map(|q| (q[1], q[0])).collect(),
                    ..Series::default()
                }
            })
            .collect();
        if !series.is_empty() {
            panels.push(Panel {
                caption: format!("host type: {h}"),
                series,
                vline: vline.clone(),
                hline: hline.clone(),
                ..Panel::default()
            });
        }
    }
    if panels.is_empty() {
        return None;
    }
    let data_max = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)))
        .fold(f64::NEG_INFINITY, f64::max);
    let slo_note = match &vline {
        Some((x, label)) if *x > data_max => {
            format!("; {label}, beyond every value shown")
        }
        Some((_, label)) => format!("; dashed: {label}"),
        None => String::new(),
    };
    Some(Lines {
        header: Header {
            title: title.into(),
            subtitle: format!(
                "merged over {} replication(s){}{}",
                s.replications,
                point_note(s),
                slo_note
            ),
            legend: colours.legend(&names, Swatch::Line),
        },
        x_desc: x_desc.into(),
        y_desc: y_desc.into(),
        x_axis: if log { XAxis::Log } else { XAxis::Linear },
        categories: vec![],
        y_fixed: Some((0.0, 1.0)),
        y_from_zero: true,
        share_y: true,
        columns: panels.len().min(2),
        panel_h: 520,
        panels,
        x_fmt: num,
        y_fmt: num,
    })
}

/// Every sweep axis's values, in order of first appearance.
fn axes(s: &Summary) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = vec![];
    for c in &s.configurations {
        for (k, x) in &c.axis_values {
            match v.iter_mut().find(|(n, _)| n == k) {
                Some((_, xs)) => {
                    if !xs.contains(x) {
                        xs.push(x.clone());
                    }
                }
                None => v.push((k.clone(), vec![x.clone()])),
            }
        }
    }
    v
}

fn axis_value<'a>(c: &'a ConfigSummary, axis: &str) -> Option<&'a str> {
    c.axis_values
        .iter()
        .find(|(k, _)| k == axis)
        .map(|(_, v)| v.as_str())
}

/// Metrics drawn against each sweep axis: (metric, label, scale).
const SWEEP_METRICS: [(&str, &str, f64); 6] = [
    ("density_per_host", "workloads per host in use", 1.0),
    (
        "mem_resident_mib_per_host",
        "resident memory per host (GiB)",
        1.0 / 1024.0,
    ),
    ("mem_per_workload_mib", "memory per workload (MiB)", 1.0),
    ("slowdown_p99", "p99 slowdown (×)", 1.0),
    ("start_latency_p95_s", "p95 start latency (s)", 1.0),
    ("slo_violation_fraction", "SLO violation fraction", 1.0),
];

fn sweeps(s: &Summary, colours: &Colours, dir: &Path, set: &mut PlotSet) -> Result<()> {
    if points(s).len() <= 1 {
        return Ok(());
    }
    let all_axes = axes(s);
    let mut wanted = vec![];
    for (axis, values) in all_axes.iter().filter(|(_, v)| v.len() > 1) {
        // Sweeping the placement list itself has no per-placement line to draw.
        if axis == "placements" {
            continue;
        }
        let numeric: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        // One figure per combination of the other axes, so each line varies one axis.
        let mut combos: Vec<Vec<(String, String)>> = vec![];
        for c in &s.configurations {
            let other: Vec<(String, String)> = c
                .axis_values
                .iter()
                .filter(|(k, _)| k != axis)
                .cloned()
                .collect();
            if !combos.contains(&other) {
                combos.push(other);
            }
        }
        for (m, label, scale) in SWEEP_METRICS {
            if !s.configurations.iter().any(|c| mean(c, m).is_some()) {
                continue;
            }
            for (ci, other) in combos.iter().enumerate() {
                wanted.push((
                    axis,
                    values,
                    numeric.clone(),
                    m,
                    label,
                    scale,
                    ci,
                    other.clone(),
                ));
            }
        }
    }
    for (n, (axis, values, numeric, m, label, scale, ci, other)) in wanted.iter().enumerate() {
        if n >= MAX_SWEEP_PLOTS {
            set.left_out.push(format!(
                "{} further sweep plots (more than {MAX_SWEEP_PLOTS}); summary.json has the numbers",
                wanted.len() - MAX_SWEEP_PLOTS
            ));
            break;
        }
        let xv = |c: &ConfigSummary| -> Option<f64> {
            let v = axis_value(c, axis)?;
            match numeric {
                Some(_) => v.parse().ok(),
                None => values.iter().position(|x| x == v).map(|i| i as f64),
            }
        };
        let mut panels = vec![];
        let mut names: Vec<&str> = vec![];
        for h in host_types(s) {
            let mut series = vec![];
            for pl in &colours.placements {
                let mut pts: Vec<(f64, f64, Option<f64>)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == h && &c.placement == pl)
                    .filter(|c| {
                        c.axis_values
                            .iter()
                            .filter(|(k, _)| k != *axis)
                            .eq(other.iter())
                    })
                    .filter_map(|c| {
                        let e = metric(c, m)?;
                        Some((xv(c)?, e.mean? * scale, e.half_width.map(|w| w * scale)))
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                names.push(pl);
                series.push(Series {
                    colour: colours.of(pl),
                    markers: true,
                    points: pts.iter().map(|p| (p.0, p.1)).collect(),
                    band: pts
                        .iter()
                        .filter_map(|p| Some((p.0, p.1 - p.2?, p.1 + p.2?)))
                        .collect(),
                    ..Series::default()
                });
            }
            if !series.is_empty() {
                panels.push(Panel {
                    caption: format!("host type: {h}"),
                    series,
                    ..Panel::default()
                });
            }
        }
        if panels.is_empty() {
            continue;
        }
        let others = if other.is_empty() {
            String::new()
        } else {
            let o: Vec<String> = other.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("; {}", o.join(", "))
        };
        let title = format!("{label} vs {axis}");
        let fig = Lines {
            header: Header {
                title: title.clone(),
                subtitle: format!("{}{others}", reps_note(s)),
                legend: colours.legend(&names, Swatch::Line),
            },
            x_desc: axis.to_string(),
            y_desc: label.to_string(),
            x_axis: if numeric.is_some() {
                XAxis::Linear
            } else {
                XAxis::Categories
            },
            categories: if numeric.is_some() {
                vec![]
            } else {
                values.to_vec()
            },
            y_fixed: None,
            y_from_zero: *m != "slowdown_p99",
            share_y: true,
            columns: panels.len().min(2),
            panel_h: 460,
            panels,
            x_fmt: num,
            y_fmt: if *m == "slo_violation_fraction" {
                pct
            } else {
                num
            },
        };
        let stem = format!(
            "sweep_{}_{}{}",
            safe_stem(m),
            safe_stem(axis),
            if *ci > 0 {
                format!("_{ci}")
            } else {
                String::new()
            }
        );
        set.plots.push(emit(
            &fig,
            dir,
            &stem,
            &title,
            &format!("{label} at each value of the sweep axis `{axis}`, one line per placement; the band is the confidence interval."),
        )?);
    }
    Ok(())
}

/// SLO violation fraction against density, one marker per sweep point; drawn only when
/// the summary carries `slo_violation_fraction` (or a per-class `.<class>` variant).
fn slo_vs_density(s: &Summary, colours: &Colours, dir: &Path, set: &mut PlotSet) -> Result<()> {
    let mut metrics: Vec<String> = vec![];
    for c in &s.configurations {
        for (k, e) in &c.metrics {
            if (k == "slo_violation_fraction" || k.starts_with("slo_violation_fraction."))
                && e.mean.is_some()
                && !metrics.contains(k)
            {
                metrics.push(k.clone());
            }
        }
    }
    for m in metrics {
        let class = m.strip_prefix("slo_violation_fraction.");
        let mut panels = vec![];
        let mut names: Vec<&str> = vec![];
        for h in host_types(s) {
            let mut series = vec![];
            for pl in &colours.placements {
                let mut pts: Vec<(f64, f64, Option<f64>)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == h && &c.placement == pl)
                    .filter_map(|c| {
                        let e = metric(c, &m)?;
                        Some((mean(c, "density_per_host")?, e.mean?, e.half_width))
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                names.push(pl);
                series.push(Series {
                    colour: colours.of(pl),
                    markers: true,
                    points: pts.iter().map(|p| (p.0, p.1)).collect(),
                    whiskers: pts
                        .iter()
                        .filter_map(|p| Some((p.0, (p.1 - p.2?).max(0.0), p.1 + p.2?)))
                        .collect(),
                    ..Series::default()
                });
            }
            if !series.is_empty() {
                panels.push(Panel {
                    caption: format!("host type: {h}"),
                    series,
                    ..Panel::default()
                });
            }
        }
        if panels.is_empty() {
            continue;
        }
        let title = match class {
            Some(c) => format!("SLO violations vs density: class {c}"),
            None => "SLO violations vs density".to_string(),
        };
        let fig = Lines {
            header: Header {
                title: title.clone(),
                subtitle: format!("one marker per sweep point; {}", reps_note(s)),
                legend: colours.legend(&names, Swatch::Line),
            },
            x_desc: "workloads per host in use".into(),
            y_desc: "fraction of time in SLO violation".into(),
            x_axis: XAxis::Linear,
            categories: vec![],
            y_fixed: None,
            y_from_zero: true,
            share_y: true,
            columns: panels.len().min(2),
            panel_h: 460,
            panels,
            x_fmt: num,
            y_fmt: pct,
        };
        let stem = match class {
            Some(c) => format!("slo_violation_vs_density_{}", safe_stem(c)),
            None => "slo_violation_vs_density".into(),
        };
        set.plots.push(emit(
            &fig,
            dir,
            &stem,
            &title,
            "How often the service objectives are violated as workloads pack more densely; each placement is one line.",
        )?);
    }
    Ok(())
}

/// Resident memory per host against the workload count, KSM on vs off: needs a sweep over
/// a `workloads.<class>.count` axis crossed with a KSM axis (`ksm…` or `….ksm…`).
fn mem_vs_count_ksm(s: &Summary, colours: &Colours, dir: &Path, set: &mut PlotSet) -> Result<()> {
    let axes = axes(s);
    let count_axis = axes.iter().find(|(k, v)| {
        k.starts_with("workloads.")
            && k.ends_with(".count")
            && v.len() > 1
            && v.iter().all(|x| x.parse::<f64>().is_ok())
    });
    let ksm_axis = axes
        .iter()
        .find(|(k, v)| (k.starts_with("ksm") || k.contains(".ksm")) && v.len() > 1);
    let (Some((count, _)), Some((ksm, ksm_values))) = (count_axis, ksm_axis) else {
        return Ok(());
    };
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for h in host_types(s) {
        let mut series = vec![];
        for pl in &colours.placements {
            for (vi, kv) in ksm_values.iter().enumerate() {
                let mut pts: Vec<(f64, f64)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == h && &c.placement == pl)
                    .filter(|c| axis_value(c, ksm) == Some(kv.as_str()))
                    .filter_map(|c| {
                        Some((
                            axis_value(c, count)?.parse().ok()?,
                            mean(c, "mem_resident_mib_per_host")? / 1024.0,
                        ))
                    })
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                if !names.contains(&pl.as_str()) {
                    names.push(pl);
                }
                series.push(Series {
                    colour: colours.of(pl),
                    dashed: vi > 0,
                    markers: true,
                    points: pts,
                    ..Series::default()
                });
            }
        }
        if !series.is_empty() {
            panels.push(Panel {
                caption: format!("host type: {h}"),
                series,
                ..Panel::default()
            });
        }
    }
    if panels.is_empty() {
        return Ok(());
    }
    let mut legend = colours.legend(&names, Swatch::Line);
    for (vi, kv) in ksm_values.iter().enumerate().take(2) {
        legend.push(LegendItem {
            label: format!("{ksm} = {kv}"),
            colour: GREY,
            swatch: if vi == 0 {
                Swatch::Line
            } else {
                Swatch::Dashed
            },
        });
    }
    let title = "Memory per host vs workload count, with and without KSM".to_string();
    let fig = Lines {
        header: Header {
            title: title.clone(),
            subtitle: format!("means over {} replication(s)", s.replications),
            legend,
        },
        x_desc: count.clone(),
        y_desc: "resident memory per host (GiB)".into(),
        x_axis: XAxis::Linear,
        categories: vec![],
        y_fixed: None,
        y_from_zero: true,
        share_y: true,
        columns: panels.len().min(2),
        panel_h: 460,
        panels,
        x_fmt: num,
        y_fmt: num,
    };
    set.plots.push(emit(
        &fig,
        dir,
        "mem_vs_count_ksm",
        &title,
        &format!("Resident memory per host as the workload count grows; solid: {ksm} = {}, dashed: the other values.", ksm_values[0]),
    )?);
    Ok(())
}

/// KSM counters over time from `timeline.csv`, averaged over replications at each time.
fn ksm_timeline(
    s: &Summary,
    colours: &Colours,
    rows: &[TimelineRow],
    dir: &Path,
    set: &mut PlotSet,
) -> Result<()> {
    let mut hosts: Vec<String> = host_types(s);
    for r in rows {
        if !hosts.contains(&r.host_type) {
            hosts.push(r.host_type.clone());
        }
    }
    let mut order: Vec<String> = colours.placements.clone();
    for r in rows {
        if !order.contains(&r.placement) {
            order.push(r.placement.clone());
        }
    }
    for h in hosts {
        // (placement) -> time bits -> (sum of each counter, n)
        let mut acc: BTreeMap<usize, BTreeMap<u64, ([f64; 4], f64)>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.host_type == h) {
            let Some(pi) = order.iter().position(|p| p == &r.placement) else {
                continue;
            };
            if !r.time_s.is_finite() || r.time_s < 0.0 {
                continue;
            }
            let e = acc
                .entry(pi)
                .or_default()
                .entry(r.time_s.to_bits())
                .or_insert(([0.0; 4], 0.0));
            e.0[0] += r.pages_sharing;
            e.0[1] += r.pages_shared;
            e.0[2] += r.mem_saved_mib / 1024.0;
            e.0[3] += r.ksmd_cpu_cores;
            e.1 += 1.0;
        }
        if acc.is_empty() {
            continue;
        }
        let series_of = |k: usize, dashed: bool| -> Vec<Series> {
            acc.iter()
                .map(|(&pi, by_t)| Series {
                    colour: colours.of(&order[pi]),
                    dashed,
                    points: by_t
                        .iter()
                        .map(|(t, (v, n))| (f64::from_bits(*t) / 3600.0, v[k] / n))
                        .collect(),
                    ..Series::default()
                })
                .collect()
        };
        let mut pages = series_of(0, false);
        pages.extend(series_of(1, true));
        let names: Vec<&str> = acc.keys().map(|&pi| order[pi].as_str()).collect();
        let mut legend = colours.legend(&names, Swatch::Line);
        // Placements absent from the summary still get a legend entry.
        for n in &names {
            if !legend.iter().any(|l| l.label == *n) {
                legend.push(LegendItem {
                    label: n.to_string(),
                    colour: colours.of(n),
                    swatch: Swatch::Line,
                });
            }
        }
        legend.push(LegendItem {
            label: "pages_sharing".into(),
            colour: GREY,
            swatch: Swatch::Line,
        });
        legend.push(LegendItem {
            label: "pages_shared".into(),
            colour: GREY,
            swatch: Swatch::Dashed,
        });
        let panels = vec![
            Panel {
                caption: "KSM pages (sharing: solid, shared: dashed)".into(),
                y_desc: Some("pages".into()),
                series: pages,
                ..Panel::default()
            },
            Panel {
                caption: "memory saved by KSM".into(),
                y_desc: Some("GiB saved".into()),
                series: series_of(2, false),
                ..Panel::default()
            },
            Panel {
                caption: "ksmd CPU".into(),
                y_desc: Some("ksmd cores".into()),
                series: series_of(3, false),
                ..Panel::default()
            },
        ];
        let title = format!("KSM over time on {h}");
        let fig = Lines {
            header: Header {
                title: title.clone(),
                subtitle: "from timeline.csv, mean over replications at each sample time".into(),
                legend,
            },
            x_desc: "simulated time (h)".into(),
            y_desc: String::new(),
            x_axis: XAxis::Linear,
            categories: vec![],
            y_fixed: None,
            y_from_zero: true,
            share_y: false,
            columns: 1,
            panel_h: 340,
            panels,
            x_fmt: num,
            y_fmt: num,
        };
        set.plots.push(emit(
            &fig,
            dir,
            &format!("ksm_timeline_{}", safe_stem(&h)),
            &title,
            "KSM merging over time: pages shared and sharing, the memory it saves and the CPU ksmd spends.",
        )?);
    }
    Ok(())
}

/// Draws every plot the data support into `dir` (created if needed).
pub(crate) fn render_all(
    s: &Summary,
    slo: Option<&Slo>,
    timeline: Option<&[TimelineRow]>,
    dir: &Path,
) -> Result<PlotSet> {
    ensure_font()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(&format!("create {}", dir.display()), e))?;
    let colours = Colours::new(s);
    let mut set = PlotSet::default();
    match density(s, &colours) {
        Some(f) => set.plots.push(emit(
            &f,
            dir,
            "density",
            "Density per placement",
            "Workloads per host in use, one bar per placement, one panel per host type; whiskers are the confidence interval.",
        )?),
        None => set.left_out.push("density: no configuration has a density_per_host mean".into()),
    }
    if let Some(f) = breakdown(
        s,
        "cpu_cores_per_host.",
        1.0,
        "CPU per host: useful work vs overhead",
        "cores per host (time-weighted mean)",
        "useful",
        "cores",
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "cpu_breakdown",
            "CPU breakdown",
            "Where each host's CPU goes: the workloads' useful work and each layer's (and the hypervisor's) overhead.",
        )?);
    }
    if let Some(f) = breakdown(
        s,
        "mem_mib_per_host.",
        1.0 / 1024.0,
        "Memory per host: workloads vs overhead",
        "GiB per host (time-weighted mean)",
        "workload_memory",
        "GiB",
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "mem_breakdown",
            "Memory breakdown",
            "Where each host's memory goes: workload memory, guest kernels, image copies, unused VM capacity and each layer's overhead.",
        )?);
    }
    let start_slo = slo
        .and_then(|x| x.start_p95_s)
        .map(|v| (v, format!("SLO: p95 ≤ {} s", num(v))));
    if let Some(f) = cdf(
        s,
        &colours,
        |c| &c.distributions.start_latency_s,
        true,
        [
            "Start latency: cumulative distribution",
            "start latency (s, log scale)",
            "fraction of starts ≤ x",
        ],
        start_slo.map(|(x, l)| (x, l, 0.95)),
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "start_latency_cdf",
            "Start-latency CDF",
            "Fraction of instances started within a given time, per placement.",
        )?);
    } else {
        set.left_out
            .push("start-latency CDF: no start latencies were recorded".into());
    }
    let slow_slo = slo
        .and_then(|x| x.p99_slowdown)
        .map(|v| (v, format!("SLO: p99 ≤ {}×", num(v))));
    if let Some(f) = cdf(
        s,
        &colours,
        |c| &c.distributions.slowdown,
        false,
        [
            "Slowdown: cumulative distribution (time-weighted)",
            "slowdown (× the uncontended run time)",
            "fraction of run time ≤ x",
        ],
        slow_slo.map(|(x, l)| (x, l, 0.99)),
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "slowdown_cdf",
            "Slowdown CDF",
            "How much CPU contention and layer overhead stretch the workloads' work, as a distribution over run time.",
        )?);
    } else {
        set.left_out
            .push("slowdown CDF: no slowdown distribution was recorded".into());
    }
    sweeps(s, &colours, dir, &mut set)?;
    let n = set.plots.len();
    slo_vs_density(s, &colours, dir, &mut set)?;
    if set.plots.len() == n {
        set.left_out.push(
            "SLO violation vs density: the results have no slo_violation_fraction metric".into(),
        );
    }
    let n = set.plots.len();
    mem_vs_count_ksm(s, &colours, dir, &mut set)?;
    if set.plots.len() == n {
        set.left_out.push(
            "memory per host vs workload count with and without KSM: needs a sweep over workloads.<class>.count crossed with a KSM axis".into(),
        );
    }
    let n = set.plots.len();
    if let Some(rows) = timeline {
        ksm_timeline(s, &colours, rows, dir, &mut set)?;
    }
    if set.plots.len() == n {
        set.left_out
            .push("KSM counters over time: no timeline.csv (or it is empty)".into());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        let t = nice_ticks(0.93, 1.07, 6);
        assert!(t.first().is_some_and(|x| *x >= 0.93) && t.last().is_some_and(|x| *x <= 1.07));
        assert_eq!(nice_ticks(1.0, 1.0, 5), vec![1.0]);
    }

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(num(2.50), "2.5");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(0.0), "0");
    }
}
