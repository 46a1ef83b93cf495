//! Tables as the `flux` CLI prints them (tablewriter without borders, `NoWhiteSpace`, tab
//! padding): every cell but the last padded to its column's width, cells joined by a tab.

/// Renders `rows` under `header` (no header line when `header` is `None`).
pub(crate) fn render(header: Option<&[&str]>, rows: &[Vec<String>]) -> String {
    let columns = header.map_or_else(
        || rows.iter().map(Vec::len).max().unwrap_or(0),
        <[&str]>::len,
    );
    let mut widths = vec![0usize; columns];
    let header_row: Option<Vec<String>> = header.map(|h| h.iter().map(|s| s.to_string()).collect());
    for row in header_row.iter().chain(rows) {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in header_row.iter().chain(rows) {
        let mut line = String::new();
        for (i, width) in widths.iter().enumerate() {
            let cell = row.get(i).map_or("", String::as_str);
            if i + 1 == columns {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(width.saturating_sub(cell.chars().count())));
                line.push('\t');
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_columns_and_joins_with_tabs() {
        let rows = vec![
            vec![
                "flux-system".to_string(),
                "True".to_string(),
                "ok".to_string(),
            ],
            vec!["a".to_string(), "False".to_string(), "".to_string()],
        ];
        let out = super::render(Some(&["NAME", "READY", "MESSAGE"]), &rows);
        assert_eq!(
            out,
            "NAME       \tREADY\tMESSAGE\nflux-system\tTrue \tok\na          \tFalse\n"
        );
        let bare = super::render(None, &rows[..1]);
        assert_eq!(bare, "flux-system\tTrue\tok\n");
    }
}
