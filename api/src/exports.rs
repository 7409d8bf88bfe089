//! Statistics as files an office opens in Excel: CSV (UTF-8 with a byte-order mark, so the
//! Chinese shows) and XLSX (a sheet per table, rates as percentages). The columns are
//! `domain::columns`'s exported ones, in its order.
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::{
    domain::{
        calendar::beijing,
        columns::{Column, Shape, exported},
        rates::{Figures, Period, ranking::Measure},
    },
    services::stats::RankedGroup,
};

/// A table: one named row of figures per group (or the summary's one row).
pub type Rows = Vec<(String, Figures)>;

const GROUP: &str = "分组";

fn cell(c: &Column, f: &Figures) -> String {
    match (c.shape, c.value(f)) {
        (_, None) => String::new(),
        (Shape::Count, Some(v)) => format!("{v:.0}"),
        (Shape::Rate, Some(v)) => format!("{:.1}%", v * 100.0),
        (Shape::Number, Some(v)) => format!("{v:.1}"),
    }
}

fn csv_field(s: &str) -> String {
    // A cell a spreadsheet would read as a formula (an area named `=HYPERLINK(…)`) is text.
    let s = &if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The line on top of every table: the area and the period, in Beijing time.
fn heading(area_name: &str, period: Period) -> String {
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&beijing()).format("%Y-%m-%d %H:%M");
    format!(
        "{area_name}　{} 至 {}（北京时间）",
        at(period.from),
        at(period.to)
    )
}

/// CSV: a comment line with the area and period, the header, then one line per row.
pub fn csv(area_name: &str, period: Period, rows: Rows) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&format!("# {}\r\n", heading(area_name, period)));
    let header: Vec<String> = std::iter::once(GROUP)
        .chain(exported().map(|c| c.zh))
        .map(csv_field)
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (name, f) in rows {
        let line: Vec<String> = std::iter::once(csv_field(&name))
            .chain(exported().map(|c| csv_field(&cell(c, &f))))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// XLSX: one sheet per `(title, rows)`, each with the area and period on top.
pub fn xlsx(
    area_name: &str,
    period: Period,
    sheets: Vec<(String, Rows)>,
    rankings: &[(Measure, Vec<RankedGroup>)],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let heading = heading(area_name, period);
    for (title, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(&title)?;
        sheet.write_string_with_format(0, 0, &heading, &bold)?;
        sheet.write_string_with_format(1, 0, GROUP, &bold)?;
        for (i, c) in exported().enumerate() {
            sheet.write_string_with_format(1, i as u16 + 1, c.zh, &bold)?;
        }
        for (r, (name, f)) in rows.iter().enumerate() {
            let r = r as u32 + 2;
            sheet.write_string(r, 0, name)?;
            for (i, c) in exported().enumerate() {
                let col = i as u16 + 1;
                match (c.value(f), c.shape) {
                    (Some(v), Shape::Rate) => {
                        sheet.write_number_with_format(r, col, v, &percent)?
                    }
                    (Some(v), _) => sheet.write_number(r, col, v)?,
                    (None, _) => sheet.write_string(r, col, "")?,
                };
            }
        }
        sheet.set_column_width(0, 24)?;
    }
    if !rankings.is_empty() {
        ranking_sheet(&mut book, &heading, rankings)?;
    }
    book.save_to_buffer()
}

const RANKING_HEADER: [&str; 7] = ["指标", "名次", "网格", "比率", "置信下限", "样本数", "说明"];

/// The grids ranked by each measure, one block under another: the rank (blank when the sample
/// is too small), the rate and its Wilson lower bound, n.
fn ranking_sheet(
    book: &mut Workbook,
    heading: &str,
    rankings: &[(Measure, Vec<RankedGroup>)],
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let score = Format::new().set_num_format("0.0");
    let sheet = book.add_worksheet();
    sheet.set_name("网格排名")?;
    sheet.write_string_with_format(0, 0, heading, &bold)?;
    for (i, title) in RANKING_HEADER.iter().enumerate() {
        sheet.write_string_with_format(1, i as u16, *title, &bold)?;
    }
    let mut r = 2u32;
    for (measure, groups) in rankings {
        let shape = match measure {
            Measure::Composite => &score,
            _ => &percent,
        };
        for g in groups {
            sheet.write_string(r, 0, measure.title_zh())?;
            match g.rank {
                Some(rank) => sheet.write_number(r, 1, f64::from(rank))?,
                None => sheet.write_string(r, 1, "")?,
            };
            sheet.write_string(r, 2, &g.name)?;
            for (col, value) in [(3, g.rate), (4, g.bound)] {
                match value {
                    Some(v) => sheet.write_number_with_format(r, col, v, shape)?,
                    None => sheet.write_string(r, col, "")?,
                };
            }
            sheet.write_number(r, 5, g.n as f64)?;
            let note = if g.insufficient {
                "样本不足，不参与排名"
            } else {
                ""
            };
            sheet.write_string(r, 6, note)?;
            r += 1;
        }
    }
    sheet.set_column_width(2, 24)?;
    sheet.set_column_width(6, 24)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn a_cell_that_reads_as_a_formula_stays_text() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_field("甲一网格"), "甲一网格");
        assert_eq!(csv_field("12"), "12");
    }
}
