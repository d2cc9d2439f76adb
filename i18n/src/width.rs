//! Padding by display width: a full-width character (汉字, ，) takes two terminal columns, so
//! `{:<10}` (which counts characters) misaligns Chinese tables.

use unicode_width::UnicodeWidthStr;

/// The number of terminal columns `s` takes.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` followed by spaces up to `cols` columns (nothing added when it is wider).
pub fn left(s: &str, cols: usize) -> String {
    let pad = cols.saturating_sub(width(s));
    format!("{s}{}", " ".repeat(pad))
}

/// `s` after spaces up to `cols` columns (nothing added when it is wider).
pub fn right(s: &str, cols: usize) -> String {
    let pad = cols.saturating_sub(width(s));
    format!("{}{s}", " ".repeat(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_characters_take_two_columns() {
        assert_eq!(width("专用发票"), 8);
        assert_eq!(width("roll"), 4);
        assert_eq!(left("专用", 6), "专用  ");
        assert_eq!(right("专用", 6), "  专用");
        assert_eq!(left("普通发票（卷票）", 4), "普通发票（卷票）");
        assert_eq!(
            width(&left("电子普通发票", 14)),
            width(&left("special", 14))
        );
    }
}
