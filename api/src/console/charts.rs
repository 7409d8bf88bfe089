//! Charts and maps as SVG drawn on the server from the same figures and boundaries the API
//! returns: no script, no third-party code, readable on a phone and a wall screen alike.
use geo::{BoundingRect, MultiPolygon};
use maud::{Markup, PreEscaped, html};

/// One line of a trend: its name, colour and a value (0–1, `None` where nothing was due) per day.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<Option<f64>>,
}

/// Lines of daily values, 600 × 160, with axis labels, a legend, and each point titled with its
/// day and value (read aloud, and shown on hover).
pub fn trend(days: &[String], series: &[Series]) -> Markup {
    if series.iter().all(|s| s.values.iter().all(Option::is_none)) {
        return html! { p.empty { "本期还没有可计算的数据" } };
    }
    let (w, h, pad) = (600.0, 160.0, 24.0);
    let n = days.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v.clamp(0.0, 1.0);
    let line = |values: &[Option<f64>]| {
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let pen = if pen_up { "M" } else { "L" };
                    path.push_str(&format!("{pen}{:.1},{:.1} ", x(i), y(*v)));
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        path
    };
    let first = days.first().map(String::as_str).unwrap_or("");
    let last = days.last().map(String::as_str).unwrap_or("");
    html! {
        svg.chart viewBox={ "0 0 " (w) " " (h) } role="img" aria-label="每日三率趋势" {
            line x1=(pad) y1=(y(0.0)) x2=(w - pad) y2=(y(0.0)) stroke="#d9dee4" {}
            line x1=(pad) y1=(y(1.0)) x2=(w - pad) y2=(y(1.0)) stroke="#d9dee4" stroke-dasharray="4" {}
            text x="2" y=(y(1.0) + 4.0) font-size="11" fill="#66707c" { "100%" }
            text x="2" y=(y(0.0) + 4.0) font-size="11" fill="#66707c" { "0" }
            text x=(pad) y=(h - 4.0) font-size="11" fill="#66707c" { (first) }
            text x=(w - pad) y=(h - 4.0) font-size="11" fill="#66707c" text-anchor="end" { (last) }
            @for s in series {
                path d=(line(&s.values)) fill="none" stroke=(s.colour) stroke-width="2" {}
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3" fill=(s.colour) {
                            title { (days[i]) " " (s.name) "：" (format!("{:.1}%", v * 100.0)) }
                        }
                    }
                }
            }
        }
        ul.keys {
            @for s in series { li { svg.swatch viewBox="0 0 12 12" aria-hidden="true" { rect width="12" height="12" rx="2" fill=(s.colour) {} } (s.name) } }
        }
    }
}

pub struct MapGrid<'a> {
    pub shape: &'a MultiPolygon<f64>,
    pub share: Option<f64>,
    pub label: String,
    pub href: String,
}

/// Green (0) to red (1); grey without a value.
fn colour(share: Option<f64>) -> String {
    match share {
        None => "#e4e7eb".into(),
        Some(s) => {
            let s = s.clamp(0.0, 1.0);
            let (r, g) = (40.0 + 180.0 * s, 150.0 - 110.0 * s);
            format!("rgb({r:.0},{g:.0},70)")
        }
    }
}

/// The grids drawn to fit 800 wide, north up, each a link to its figures, with points marked
/// (WGS-84 `(lat, lng)`: tickets).
/// A hot spot drawn over the grids: its outline, (lng, lat) pairs, and what it says on hover.
pub struct MapSpot<'a> {
    pub ring: &'a [Vec<f64>],
    pub label: String,
}

pub fn map(grids: &[MapGrid], points: &[(f64, f64)]) -> Markup {
    map_with(grids, points, &[])
}

/// The grids, open tickets as points and hot spots as dashed outlines on top.
pub fn map_with(grids: &[MapGrid], points: &[(f64, f64)], spots: &[MapSpot]) -> Markup {
    let bounds = grids
        .iter()
        .filter_map(|g| g.shape.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        });
    let Some(b) = bounds else {
        return html! { p.empty { "没有网格边界" } };
    };
    // Longitude shrinks with latitude: scale x by cos(lat) so shapes keep their proportions.
    let kx = b.center().y.to_radians().cos();
    let (dx, dy) = ((b.width() * kx).max(1e-9), b.height().max(1e-9));
    let w = 800.0;
    let h = (w * dy / dx).clamp(200.0, 1200.0);
    let px = |x: f64, y: f64| {
        (
            (x - b.min().x) * kx / dx * (w - 20.0) + 10.0,
            (b.max().y - y) / dy * (h - 20.0) + 10.0,
        )
    };
    let mut svg = String::new();
    for g in grids {
        let mut d = String::new();
        for poly in &g.shape.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = px(c.x, c.y);
                    d.push_str(&format!("{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" }));
                }
                d.push('Z');
            }
        }
        svg.push_str(
            &html! {
                a href=(g.href) {
                    path d=(d) fill=(colour(g.share)) fill-rule="evenodd" stroke="#fff" stroke-width="1.5" {
                        title { (g.label) }
                    }
                }
            }
            .into_string(),
        );
    }
    let markers: Vec<(f64, f64)> = points.iter().map(|(lat, lng)| px(*lng, *lat)).collect();
    let r = if markers.len() > 1 { "5" } else { "9" };
    let outlines: Vec<(String, &str)> = spots
        .iter()
        .map(|s| {
            let mut d = String::new();
            for (i, c) in s.ring.iter().filter(|c| c.len() == 2).enumerate() {
                let (x, y) = px(c[0], c[1]);
                d.push_str(&format!("{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" }));
            }
            d.push('Z');
            (d, s.label.as_str())
        })
        .collect();
    html! {
        svg.map viewBox={ "0 0 " (w) " " (format!("{h:.0}")) } role="img" aria-label="网格地图" {
            (PreEscaped(svg))
            @for (d, label) in &outlines {
                path.hotspot d=(d) fill="#b3261e" fill-opacity="0.25" stroke="#b3261e" stroke-width="2" stroke-dasharray="6 3" {
                    title { (label) }
                }
            }
            @for (x, y) in markers {
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r=(r) fill="#b3261e" stroke="#fff" stroke-width="2" {}
            }
        }
    }
}
