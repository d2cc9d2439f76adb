//! A minimal PDF 1.4 writer: pages of text, lines and rectangles, with one font, the standard
//! Chinese CID font `STSong-Light` in `UniGB-UCS2-H` encoding, which every conforming reader
//! supplies, so no font file is embedded and the output stays small. Written here because none
//! of the project's dependencies writes PDF with CJK text without embedding a font file.
//!
//! Coordinates are millimetres from the top-left corner of the page.

use std::fmt::Write as _;

const PT_PER_MM: f32 = 72.0 / 25.4;

/// One page being drawn.
#[derive(Debug, Clone)]
pub struct Page {
    width_mm: f32,
    height_mm: f32,
    ops: String,
}

impl Page {
    /// A blank page of the given size.
    pub fn new(width_mm: f32, height_mm: f32) -> Page {
        Page {
            width_mm,
            height_mm,
            ops: String::new(),
        }
    }

    fn x(&self, mm: f32) -> f32 {
        mm * PT_PER_MM
    }

    fn y(&self, mm: f32) -> f32 {
        (self.height_mm - mm) * PT_PER_MM
    }

    /// Text with its baseline at (`x`, `y`) mm, `size` in points.
    pub fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        let mut hex = String::with_capacity(s.len() * 4);
        for u in s.encode_utf16() {
            let _ = write!(hex, "{u:04X}");
        }
        let (px, py) = (self.x(x), self.y(y));
        let _ = writeln!(
            self.ops,
            "BT /F1 {size:.1} Tf {px:.2} {py:.2} Td <{hex}> Tj ET"
        );
    }

    /// Text right-aligned so it ends at `x_right`; widths estimated from the font metrics we
    /// declare (half width for ASCII, full width otherwise).
    pub fn text_right(&mut self, x_right: f32, y: f32, size: f32, s: &str) {
        let em_mm = size / PT_PER_MM;
        let width: f32 = s
            .chars()
            .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
            .sum::<f32>()
            * em_mm;
        self.text(x_right - width, y, size, s);
    }

    /// A straight line.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        let (a, b, c, d) = (self.x(x1), self.y(y1), self.x(x2), self.y(y2));
        let _ = writeln!(self.ops, "{a:.2} {b:.2} m {c:.2} {d:.2} l S");
    }

    /// A rectangle outline with its top-left corner at (`x`, `y`).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let (a, b) = (self.x(x), self.y(y + h));
        let (w, h) = (w * PT_PER_MM, h * PT_PER_MM);
        let _ = writeln!(self.ops, "{a:.2} {b:.2} {w:.2} {h:.2} re S");
    }
}

/// A document: pages in order.
#[derive(Debug, Default, Clone)]
pub struct Document {
    pages: Vec<Page>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Document {
        Document::default()
    }

    /// Appends a page.
    pub fn push(&mut self, page: Page) {
        self.pages.push(page);
    }

    /// Number of pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether there are no pages.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The PDF bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Objects: 1 catalog, 2 pages, 3 font (Type0), 4 CID font, 5 descriptor, then per page
        // a page object and its content stream.
        let mut objects: Vec<String> = Vec::new();
        let n = self.pages.len();
        let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
        objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_owned());
        objects.push(format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            kids.join(" ")
        ));
        objects.push(
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H \
             /DescendantFonts [4 0 R] >>"
                .to_owned(),
        );
        objects.push(
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> \
             /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>"
                .to_owned(),
        );
        objects.push(
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
             /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
             /CapHeight 880 /StemV 93 >>"
                .to_owned(),
        );
        for (i, p) in self.pages.iter().enumerate() {
            let (w, h) = (p.width_mm * PT_PER_MM, p.height_mm * PT_PER_MM);
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2} {h:.2}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            ));
            let body = format!("0.5 w\n{}", p.ops);
            objects.push(format!(
                "<< /Length {} >>\nstream\n{body}endstream",
                body.len()
            ));
        }
        // The second line holds bytes above 127 (as UTF-8) so transfer tools treat the file as
        // binary, as the PDF spec recommends.
        let mut out: Vec<u8> = "%PDF-1.4\n%âãÏÓ\n".as_bytes().to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for off in offsets {
            let _ = writeln!(tail, "{off:010} 00000 n ");
        }
        let _ = write!(
            tail,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(tail.as_bytes());
        out
    }
}

/// Test helper and reader aid: the UTF-16BE hex form `page.text` writes for `s`.
pub fn hex_text(s: &str) -> String {
    s.encode_utf16().map(|u| format!("{u:04X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xref_offsets_point_at_objects() {
        let mut d = Document::new();
        let mut p = Page::new(210.0, 297.0);
        p.text(10.0, 10.0, 12.0, "增值税 ABC");
        p.rect(5.0, 5.0, 200.0, 287.0);
        d.push(p);
        d.push(Page::new(210.0, 297.0));
        let bytes = d.to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains(&hex_text("增值税 ABC")));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref"));
        let entries: Vec<&str> = text[start..]
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with("n "))
            .collect();
        assert_eq!(entries.len(), 5 + 2 * 2);
        for (i, e) in entries.iter().enumerate() {
            let off: usize = e[..10].parse().unwrap();
            assert!(
                text[off..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
        assert!(text.contains("/Count 2"));
    }
}
