//! The amount in Chinese capital numerals (大写金额) printed in the 价税合计 box, e.g.
//! `1234.56` → `壹仟贰佰叁拾肆圆伍角陆分`, `100` → `壹佰圆整`. Negative amounts (red invoices)
//! are prefixed `（负数）`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SMALL_UNITS: [&str; 4] = ["", "拾", "佰", "仟"];
const BIG_UNITS: [&str; 4] = ["", "万", "亿", "万亿"];

/// Writes the integer part of up to 16 digits in capital numerals (without 圆).
fn integer_words(mut n: u64) -> String {
    if n == 0 {
        return "零".to_owned();
    }
    // Split into groups of four digits, lowest first.
    let mut groups = Vec::new();
    while n > 0 {
        groups.push((n % 10_000) as usize);
        n /= 10_000;
    }
    let mut out = String::new();
    let mut pending_zero = false;
    for (gi, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        if pending_zero || (!out.is_empty() && g < 1000) {
            out.push('零');
        }
        pending_zero = false;
        let digits = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
        let mut zero_run = false;
        let mut started = false;
        for (i, &d) in digits.iter().enumerate() {
            if d == 0 {
                zero_run = started;
                continue;
            }
            if zero_run {
                out.push('零');
                zero_run = false;
            }
            out.push(DIGITS[d]);
            out.push_str(SMALL_UNITS[3 - i]);
            started = true;
        }
        out.push_str(BIG_UNITS[gi.min(3)]);
    }
    out
}

/// The capital-numeral form of an amount in yuan (rounded to fen).
pub fn amount_in_words(amount: Decimal) -> String {
    let negative = amount.is_sign_negative() && !amount.is_zero();
    let fen = (amount.abs() * Decimal::from(100))
        .round()
        .to_u64()
        .unwrap_or(u64::MAX);
    let (yuan, jiao, fen_d) = (fen / 100, (fen / 10 % 10) as usize, (fen % 10) as usize);
    let mut out = String::new();
    if negative {
        out.push_str("（负数）");
    }
    if yuan > 0 {
        out.push_str(&integer_words(yuan));
        out.push('圆');
    }
    match (jiao, fen_d) {
        (0, 0) => {
            if yuan == 0 {
                out.push_str("零圆");
            }
            out.push('整');
        }
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push_str("角整");
        }
        (j, f) => {
            if j > 0 {
                out.push(DIGITS[j]);
                out.push('角');
            } else if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn w(s: &str) -> String {
        amount_in_words(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn h18_capital_amounts() {
        assert_eq!(w("1234.56"), "壹仟贰佰叁拾肆圆伍角陆分");
        assert_eq!(w("100"), "壹佰圆整");
        assert_eq!(w("100.50"), "壹佰圆伍角整");
        assert_eq!(w("100.05"), "壹佰圆零伍分");
        assert_eq!(w("1005"), "壹仟零伍圆整");
        assert_eq!(w("10010"), "壹万零壹拾圆整");
        assert_eq!(w("100000000"), "壹亿圆整");
        assert_eq!(w("120000000.1"), "壹亿贰仟万圆壹角整");
        assert_eq!(w("10000001"), "壹仟万零壹圆整");
        assert_eq!(w("0.07"), "柒分");
        assert_eq!(w("0"), "零圆整");
        assert_eq!(w("-113.00"), "（负数）壹佰壹拾叁圆整");
    }
}
