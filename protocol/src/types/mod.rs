//! Plain-data wire types: invoice kinds (F1), codes and numbers (F2), taxpayer ids (F3), red info
//! form numbers (F4), device serials (F6), tax classification codes and rates (F7), money in fen
//! (F8), rolls, per-kind status and the journal records. Validated newtypes check their format
//! when built and again when decoded, so a decoded value is always well formed.

mod ids;
mod money;
mod records;
mod tokens;

pub use crate::kind::{InvoiceKind, UnknownKind};
pub use ids::*;
pub use money::*;
pub use records::*;
pub use tokens::*;

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(not(feature = "std"))]
    use std::string::ToString;

    #[test]
    fn f1_kinds_have_real_codes() {
        let codes: [(&str, u8); 6] = [
            ("004", 0),
            ("007", 2),
            ("005", 12),
            ("025", 41),
            ("006", 42),
            ("026", 51),
        ];
        for (k, (code, n)) in InvoiceKind::ALL.iter().zip(codes) {
            assert_eq!(k.type_code(), code);
            assert_eq!(k.number(), n);
            assert_eq!(InvoiceKind::try_from(n), Ok(*k));
            assert_eq!(InvoiceKind::parse(code), Some(*k));
            assert_eq!(InvoiceKind::parse(k.name()), Some(*k));
        }
        assert_eq!(InvoiceKind::try_from(3), Err(UnknownKind(3)));
        assert!(!InvoiceKind::Electronic.is_paper());
    }

    #[test]
    fn f8_fen_display() {
        assert_eq!(Fen(123_456).to_string(), "1234.56");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(0).to_string(), "0.00");
    }

    #[test]
    fn f7_rates() {
        assert!(TaxRate(150).check(false).is_ok());
        assert!(TaxRate(1700).check(false).is_err());
        assert!(TaxRate(1700).check(true).is_ok());
        assert!(TaxRate(1200).check(true).is_err());
        assert_eq!(TaxRate(150).to_string(), "1.5%");
        assert_eq!(TaxRate(1300).to_string(), "13%");
    }

    #[test]
    fn validated_strings_refuse_bad_input_when_decoded() {
        let good = TaxpayerId::new("91350100M000100Y43").unwrap();
        let bytes = postcard::to_vec::<_, 64>(&good).unwrap();
        assert_eq!(postcard::from_bytes::<TaxpayerId>(&bytes).unwrap(), good);
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] = b'4';
        assert!(postcard::from_bytes::<TaxpayerId>(&bad).is_err());
        assert!(
            postcard::from_bytes::<InvoiceNumber>(&[0]).is_err(),
            "number 0"
        );
        assert!(postcard::from_bytes::<InvoiceKind>(&[3]).is_err());
    }
}
