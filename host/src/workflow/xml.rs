//! A small XML tree reader and writer for the red info form files (FAQ 7.2: 导出XML文件拷贝到U盘).
//! It reads what [`Element::to_document`] writes and ordinary XML like it: elements, attributes
//! (kept), text with the five predefined entities and numeric character references; the XML
//! declaration, comments, processing instructions and DOCTYPE are skipped, CDATA is text.
//! Input is untrusted: every problem is an [`XmlError`] with its byte offset, never a panic,
//! and nesting is limited to [`MAX_DEPTH`].

use std::fmt::Write as _;

/// Deepest nesting read.
pub const MAX_DEPTH: usize = 32;

/// An element with its attributes, text and children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Tag name.
    pub name: String,
    /// Attributes in order.
    pub attrs: Vec<(String, String)>,
    /// Text content (concatenated, surrounding whitespace kept as read).
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

/// Why a document does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("XML at byte {offset}: {problem}")]
pub struct XmlError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub problem: String,
}

fn err(offset: usize, problem: impl Into<String>) -> XmlError {
    XmlError {
        offset,
        problem: problem.into(),
    }
}

impl Element {
    /// An element with a name.
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_owned(),
            ..Element::default()
        }
    }

    /// Adds a child with text and returns self (builder).
    pub fn leaf(mut self, name: &str, text: &str) -> Element {
        let mut c = Element::new(name);
        c.text = text.to_owned();
        self.children.push(c);
        self
    }

    /// Adds a child (builder).
    pub fn child(mut self, c: Element) -> Element {
        self.children.push(c);
        self
    }

    /// The first child named `name`.
    pub fn get(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.get(name).map(|c| c.text.trim())
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The document: declaration and this element, indented.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let _ = write!(out, "{pad}<{}", self.name);
        for (k, v) in &self.attrs {
            let _ = write!(out, " {k}=\"{}\"", escape(v));
        }
        if self.children.is_empty() {
            if self.text.is_empty() {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(out, ">{}</{}>", escape(&self.text), self.name);
            }
            return;
        }
        out.push_str(">\n");
        if !self.text.trim().is_empty() {
            let _ = writeln!(out, "{pad}  {}", escape(self.text.trim()));
        }
        for c in &self.children {
            c.write(out, depth + 1);
        }
        let _ = writeln!(out, "{pad}</{}>", self.name);
    }
}

/// Escapes text and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

fn unescape(s: &str, at: usize) -> Result<String, XmlError> {
    let mut o = String::with_capacity(s.len());
    let mut rest = s;
    let mut pos = at;
    while let Some(i) = rest.find('&') {
        o.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';') else {
            return Err(err(pos + i, "'&' without ';'"));
        };
        let name = &after[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| err(pos + i, format!("bad character reference &{n};")))?,
            n if n.starts_with('#') => n[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| err(pos + i, format!("bad character reference &{n};")))?,
            n => return Err(err(pos + i, format!("unknown entity &{n};"))),
        };
        o.push(c);
        let skip = i + 1 + end + 1;
        pos += skip;
        rest = &rest[skip..];
    }
    o.push_str(rest);
    Ok(o)
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn skip_past(&mut self, end: &str, what: &str) -> Result<(), XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(err(self.pos, format!("unterminated {what}"))),
        }
    }

    /// Skips declarations, comments, processing instructions and DOCTYPE.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<?") {
                self.skip_past("?>", "processing instruction")?;
            } else if r.starts_with("<!--") {
                self.skip_past("-->", "comment")?;
            } else if r.starts_with("<!DOCTYPE") {
                self.skip_past(">", "DOCTYPE")?;
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let r = self.rest();
        let n: usize = r
            .char_indices()
            .find(|(_, c)| !is_name_char(*c))
            .map_or(r.len(), |(i, _)| i);
        if n == 0 {
            return Err(err(self.pos, "expected a name"));
        }
        self.pos += n;
        Ok(r[..n].to_owned())
    }

    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return Err(err(self.pos, "nested too deeply"));
        }
        if !self.rest().starts_with('<') {
            return Err(err(self.pos, "expected '<'"));
        }
        self.pos += 1;
        let mut el = Element::new(&self.name()?);
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("/>") {
                self.pos += 2;
                return Ok(el);
            }
            if r.starts_with('>') {
                self.pos += 1;
                break;
            }
            let k = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return Err(err(self.pos, format!("attribute {k} without '='")));
            }
            self.pos += 1;
            self.skip_ws();
            let q = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return Err(err(self.pos, "attribute value without quotes")),
            };
            self.pos += 1;
            let r = self.rest();
            let Some(end) = r.find(q) else {
                return Err(err(self.pos, "unterminated attribute value"));
            };
            let v = unescape(&r[..end], self.pos)?;
            self.pos += end + 1;
            el.attrs.push((k, v));
        }
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(err(self.pos, format!("element {} is not closed", el.name)));
            }
            if let Some(after) = r.strip_prefix("</") {
                let n = after
                    .char_indices()
                    .find(|(_, c)| !is_name_char(*c))
                    .map_or(after.len(), |(i, _)| i);
                if after[..n] != el.name {
                    return Err(err(
                        self.pos,
                        format!("</{}> closes <{}>", &after[..n], el.name),
                    ));
                }
                self.pos += 2 + n;
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return Err(err(self.pos, "expected '>'"));
                }
                self.pos += 1;
                return Ok(el);
            }
            if r.starts_with("<!--") {
                self.skip_past("-->", "comment")?;
            } else if let Some(after) = r.strip_prefix("<![CDATA[") {
                let Some(end) = after.find("]]>") else {
                    return Err(err(self.pos, "unterminated CDATA"));
                };
                el.text.push_str(&after[..end]);
                self.pos += 9 + end + 3;
            } else if r.starts_with("<?") {
                self.skip_past("?>", "processing instruction")?;
            } else if r.starts_with('<') {
                el.children.push(self.element(depth + 1)?);
            } else {
                let end = r.find('<').unwrap_or(r.len());
                el.text.push_str(&unescape(&r[..end], self.pos)?);
                self.pos += end;
            }
        }
    }
}

/// Reads a document's root element.
pub fn parse(s: &str) -> Result<Element, XmlError> {
    let mut p = Parser { s, pos: 0 };
    let s0 = s.strip_prefix('\u{feff}').map_or(0, |_| 3);
    p.pos = s0;
    p.skip_misc()?;
    let root = p.element(0)?;
    p.skip_misc()?;
    if !p.rest().trim().is_empty() {
        return Err(err(p.pos, "content after the root element"));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_escapes() {
        let e = Element::new("A")
            .leaf("B", "x < y & \"z\" 中文")
            .child(Element::new("C").leaf("D", ""));
        let doc = e.to_document();
        let back = parse(&doc).unwrap();
        assert_eq!(back.text_of("B"), Some("x < y & \"z\" 中文"));
        assert_eq!(back.get("C").unwrap().text_of("D"), Some(""));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for s in [
            "",
            "<",
            "<a",
            "<a>",
            "<a></b>",
            "<a>&bogus;</a>",
            "<a>&#xZZ;</a>",
            "<a b=c/>",
            "<a>&#99999999;</a>",
            "<a/>junk",
            "<a><![CDATA[x</a>",
            "<é",
            "<a>\u{0}&</a>",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
        let deep = "<a>".repeat(100);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn reads_attributes_comments_and_numeric_refs() {
        let e =
            parse("<?xml version='1.0'?><!-- c --><a k='v&amp;w'>&#65;&#x42;<![CDATA[<c>]]></a>")
                .unwrap();
        assert_eq!(e.attr("k"), Some("v&w"));
        assert_eq!(e.text, "AB<c>");
    }
}
