//! Drawing: the bundled font, the palette, a figure's header and legend, and the two
//! chart kinds every plot is made of — horizontal bars ([`BarChart`]) and line panels
//! ([`LineChart`]) — written as PNG and SVG by [`emit`].

use std::error::Error as StdError;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontFamily, FontStyle, register_font};

use super::{PlotFile, format_number};
use crate::diagnostics::{Error, Result};

const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The name the bundled font is registered under. plotters writes it verbatim into SVG
/// `font-family`, so it doubles as a CSS fallback list for SVG viewers.
const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Tableau 10: distinguishable, colour-blind-aware, and readable on white.
pub(super) const PALETTE: [RGBColor; 10] = [
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
pub(super) const USEFUL: RGBColor = RGBColor(0x59, 0xA1, 0x4F);
pub(super) const COMPONENT_PALETTE: [RGBColor; 9] = [
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
pub(super) const GREY: RGBColor = RGBColor(0x70, 0x70, 0x70);

type DrawResult<T = ()> = std::result::Result<T, Box<dyn StdError>>;

pub(super) fn ensure_font() -> Result<()> {
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Swatch {
    Box,
    Line,
    Dashed,
}

#[derive(Clone, Debug)]
pub(super) struct LegendItem {
    pub(super) label: String,
    pub(super) colour: RGBColor,
    pub(super) swatch: Swatch,
}

/// Title, subtitle and a wrapped legend across the top of a figure.
pub(super) struct Header {
    pub(super) title: String,
    pub(super) subtitle: String,
    pub(super) legend: Vec<LegendItem>,
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
                let (x, y_centre) = (x as i32, y + 10);
                match it.swatch {
                    Swatch::Box => {
                        root.draw(&Rectangle::new(
                            [(x, y_centre - 8), (x + 22, y_centre + 8)],
                            it.colour.filled(),
                        ))?;
                    }
                    Swatch::Line => {
                        root.draw(&PathElement::new(
                            vec![(x, y_centre), (x + 22, y_centre)],
                            it.colour.stroke_width(3),
                        ))?;
                    }
                    Swatch::Dashed => {
                        for k in 0..3 {
                            root.draw(&PathElement::new(
                                vec![(x + k * 9, y_centre), (x + k * 9 + 5, y_centre)],
                                it.colour.stroke_width(3),
                            ))?;
                        }
                    }
                }
                root.draw(&Text::new(
                    it.label.clone(),
                    (x + 30, y_centre),
                    TextStyle::from(font(15.0)).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
            y += LEGEND_ROW as i32;
        }
        Ok(())
    }
}

/// A figure drawable on any plotters backend.
pub(super) trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

pub(super) fn emit<F: Figure>(
    f: &F,
    dir: &Path,
    stem: &str,
    title: &str,
    caption: &str,
) -> Result<PlotFile> {
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

/// The value range of a chart axis (linear, f64), with exactly the tick positions we choose (bar rows, categories,
/// round numbers): plotters' own key points can land between categories.
#[derive(Clone)]
struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Scale {
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

impl ValueFormatter<f64> for Scale {
    fn format(v: &f64) -> String {
        format_number(*v)
    }
}

impl Scale {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Scale {
        Scale { lo, hi, ticks }
    }
}

// ---------------------------------------------------------------------------------------
// Horizontal bars (density, CPU and memory breakdowns): long placement names stay
// horizontal and readable, one panel per host type.

pub(super) struct BarRow {
    pub(super) label: String,
    /// Stacked segments from zero.
    pub(super) segments: Vec<(f64, RGBColor)>,
    /// Confidence interval around the bar's end.
    pub(super) interval: Option<(f64, f64)>,
    pub(super) note: String,
}

pub(super) struct BarChart {
    pub(super) header: Header,
    pub(super) x_desc: String,
    pub(super) panels: Vec<(String, Vec<BarRow>)>,
}

const BAR_ROW_HEIGHT: u32 = 40;
const BAR_PANEL_EXTRA: u32 = 36 + 64;

impl BarChart {
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
        let mut x_max_value: f64 = 0.0;
        for r in self.panels.iter().flat_map(|(_, rows)| rows.iter()) {
            let end: f64 = r.segments.iter().map(|s| s.0.max(0.0)).sum();
            let end = r.interval.map_or(end, |(_, hi)| hi.max(end));
            let note = f64::from(text_width(&r.note, 14.0) + 18);
            // Leave room right of each bar for its note, in data units.
            let need = if plot_w > note + 20.0 {
                end * plot_w / (plot_w - note)
            } else {
                end * 2.0
            };
            x_max_value = x_max_value.max(need).max(end * 1.05);
        }
        if x_max_value.is_finite() && x_max_value > 0.0 {
            x_max_value
        } else {
            1.0
        }
    }
}

impl Figure for BarChart {
    fn size(&self) -> (u32, u32) {
        let h: u32 = self
            .panels
            .iter()
            .map(|(_, r)| r.len() as u32 * BAR_ROW_HEIGHT + BAR_PANEL_EXTRA)
            .sum();
        (WIDTH, self.header.height() + h + 10)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.header.draw(root)?;
        let (_, mut rest) = root.split_vertically(self.header.height());
        let label_width = self.label_area();
        let x_max_value = self.x_max();
        for (caption, rows) in &self.panels {
            let n = rows.len();
            let h = n as u32 * BAR_ROW_HEIGHT + BAR_PANEL_EXTRA;
            let (panel, r) = rest.split_vertically(h);
            rest = r;
            let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
            let mut chart = ChartBuilder::on(&panel)
                .caption(caption, font(18.0))
                .margin(6)
                .margin_left(12)
                .margin_right(36)
                .x_label_area_size(52)
                .y_label_area_size(label_width)
                .build_cartesian_2d(
                    Scale::new(0.0, x_max_value, nice_ticks(0.0, x_max_value, 10)),
                    Scale::new(0.0, n as f64, centres),
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
                .x_label_formatter(&|x: &f64| format_number(*x))
                .y_label_formatter(&label_at)
                .draw()?;
            for (i, row) in rows.iter().enumerate() {
                let y_centre = (n - 1 - i) as f64 + 0.5;
                let mut x0 = 0.0;
                for &(v, c) in &row.segments {
                    let v = v.max(0.0);
                    if v > 0.0 {
                        chart.draw_series(std::iter::once(Rectangle::new(
                            [(x0, y_centre - 0.3), (x0 + v, y_centre + 0.3)],
                            c.filled(),
                        )))?;
                    }
                    x0 += v;
                }
                let mut end = x0;
                if let Some((lo, hi)) = row.interval
                    && hi > lo
                {
                    let style = BLACK.stroke_width(2);
                    chart.draw_series([
                        PathElement::new(vec![(lo, y_centre), (hi, y_centre)], style),
                        PathElement::new(vec![(lo, y_centre - 0.15), (lo, y_centre + 0.15)], style),
                        PathElement::new(vec![(hi, y_centre - 0.15), (hi, y_centre + 0.15)], style),
                    ])?;
                    end = end.max(hi);
                }
                if !row.note.is_empty() {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((end, y_centre))
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
pub(super) struct Series {
    pub(super) colour: RGBColor,
    pub(super) dashed: bool,
    pub(super) markers: bool,
    pub(super) points: Vec<(f64, f64)>,
    /// Confidence band `(x, lo, hi)`.
    pub(super) band: Vec<(f64, f64, f64)>,
    /// Vertical error bars `(x, lo, hi)`.
    pub(super) whiskers: Vec<(f64, f64, f64)>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Panel {
    pub(super) caption: String,
    pub(super) y_desc: Option<String>,
    pub(super) series: Vec<Series>,
    /// Reference lines (an SLO bound) with a label.
    pub(super) vline: Option<(f64, String)>,
    pub(super) hline: Option<(f64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum XScale {
    Linear,
    Log,
    /// Categories at 0, 1, 2, …
    Categories,
}

pub(super) struct LineChart {
    pub(super) header: Header,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) x_scale: XScale,
    pub(super) categories: Vec<String>,
    /// Fixed y range (CDFs: 0..1) instead of fitting the data.
    pub(super) y_fixed: Option<(f64, f64)>,
    /// y from zero (densities, memory) rather than fitted tightly.
    pub(super) y_from_zero: bool,
    pub(super) share_y: bool,
    pub(super) columns: usize,
    pub(super) panel_height: u32,
    pub(super) panels: Vec<Panel>,
    pub(super) x_format: fn(f64) -> String,
    pub(super) y_format: fn(f64) -> String,
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

impl LineChart {
    fn x_of(&self, x: f64) -> Option<f64> {
        match self.x_scale {
            XScale::Log => (x > 0.0 && x.is_finite()).then(|| x.log10()),
            _ => x.is_finite().then_some(x),
        }
    }

    fn x_range(&self) -> (f64, f64, Vec<f64>) {
        if self.x_scale == XScale::Categories {
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
        if self.x_scale == XScale::Log {
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

impl Figure for LineChart {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        (WIDTH, self.header.height() + rows * self.panel_height + 8)
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
        let rotate = self.x_scale == XScale::Categories && f64::from(widest) > slot * 0.9;
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
                .build_cartesian_2d(
                    Scale::new(x0, x1, xticks.clone()),
                    Scale::new(y0, y1, yticks),
                )?;
            let x_scale = self.x_scale;
            let categories = &self.categories;
            let x_format = self.x_format;
            let x_label = move |x: &f64| -> String {
                match x_scale {
                    XScale::Log => x_format(10f64.powf(*x)),
                    XScale::Linear => x_format(*x),
                    XScale::Categories => categories
                        .get(x.round().max(0.0) as usize)
                        .cloned()
                        .unwrap_or_default(),
                }
            };
            let y_format = self.y_format;
            let y_label = move |y: &f64| y_format(*y);
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
            let x_position = |x: f64| self.x_of(x);
            if let Some((x, _)) = &p.vline
                && let Some(x) = x_position(*x)
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
            let series_count = p.series.len();
            for (series_index, s) in p.series.iter().enumerate() {
                // Earlier series are drawn wider, so a later one lying exactly on top of
                // it (equal results) leaves it visible as an outline.
                let width = (2 + series_count - 1 - series_index).min(6) as u32;
                let band: Vec<(f64, f64, f64)> = s
                    .band
                    .iter()
                    .filter_map(|&(x, lo, hi)| Some((x_position(x)?, lo, hi)))
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
                    .filter_map(|&(x, y)| Some((x_position(x)?, y)))
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
                    let Some(x) = x_position(x) else { continue };
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
}
