//! Redaction of personal data in text that leaves the server publicly: phone numbers (mainland
//! mobiles and landlines), 18-digit resident ID numbers (only when their check digit is right, so
//! order numbers and the like stay), licence plates, and house numbers below building level
//! (unit, room), while the building itself stays so the public knows where the problem is.
use std::sync::LazyLock;

use regex::{Captures, Regex};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
}

/// Digits not glued to other digits (Rust's regex has no look-around, so the edges are captured).
static ID_CARD: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9A-Za-z])(\d{17}[0-9Xx])($|[^0-9A-Za-z])"));
static MOBILE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})($|[^0-9])"));
static LANDLINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9])(0\d{2,3})[- ]?(\d{7,8})($|[^0-9])"));
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领])([A-HJ-NP-Z])[·•\s]?([A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳])",
    )
});
/// `2单元`, `302室`, `302房`, `12户`, and the room after a unit (`3单元502`).
static UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"\d+\s*(单元)(\d{2,4})?"));
static ROOM: LazyLock<Regex> = LazyLock::new(|| re(r"\d{1,5}\s*(室|房|户|号房)"));
/// `5-2-301` (building–unit–room): the building stays.
static TRIPLE: LazyLock<Regex> = LazyLock::new(|| re(r"(\d+)-(\d+)-(\d+)"));

/// Whether an 18-character ID number's last character is its GB 11643 check digit.
pub fn id_checksum_ok(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return false;
    }
    let mut sum = 0;
    for (c, w) in chars[..17].iter().zip(WEIGHTS) {
        match c.to_digit(10) {
            Some(d) => sum += d * w,
            None => return false,
        }
    }
    chars[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
}

fn stars(n: usize) -> String {
    "*".repeat(n)
}

/// The text with personal data masked.
pub fn redact(text: &str) -> String {
    let out = ID_CARD.replace_all(text, |c: &Captures| {
        let id = &c[2];
        if id_checksum_ok(id) {
            format!("{}{}{}{}{}", &c[1], &id[..3], stars(13), &id[16..], &c[3])
        } else {
            c[0].to_owned()
        }
    });
    let out = MOBILE.replace_all(&out, |c: &Captures| {
        format!("{}{}****{}{}", &c[1], &c[2], &c[4], &c[5])
    });
    let out = LANDLINE.replace_all(&out, |c: &Captures| {
        let num = &c[3];
        format!(
            "{}{}-{}{}{}",
            &c[1],
            &c[2],
            stars(num.len() - 2),
            &num[num.len() - 2..],
            &c[4]
        )
    });
    let out = PLATE.replace_all(&out, |c: &Captures| {
        let rest = &c[3];
        let last: String = rest.chars().last().map(String::from).unwrap_or_default();
        format!(
            "{}{}{}{}",
            &c[1],
            &c[2],
            stars(rest.chars().count() - 1),
            last
        )
    });
    let out = TRIPLE.replace_all(&out, |c: &Captures| {
        format!("{}-{}-{}", &c[1], stars(c[2].len()), stars(c[3].len()))
    });
    let out = UNIT.replace_all(&out, |c: &Captures| {
        let room = c
            .get(2)
            .map(|m| stars(m.as_str().len()))
            .unwrap_or_default();
        format!("*{}{room}", &c[1])
    });
    let out = ROOM.replace_all(&out, |c: &Captures| format!("***{}", &c[1]));
    out.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(redact("联系电话13812345678"), "联系电话138****5678");
        assert_eq!(redact("call +86 138-1234-5678 now"), "call 138****5678 now");
        assert_eq!(
            redact("物业 010-62345678 或 0571 87654321"),
            "物业 010-******78 或 0571-******21"
        );
    }

    #[test]
    fn id_numbers_only_with_a_valid_check_digit() {
        // A well-formed number (check digit X) is masked; one with a wrong check digit is not.
        assert!(id_checksum_ok("11010519491231002X"));
        assert_eq!(
            redact("身份证11010519491231002X丢了"),
            "身份证110*************2X丢了"
        );
        assert_eq!(redact("订单110105194912310021"), "订单110105194912310021");
        assert_eq!(
            redact("快递单号 123456789012345678"),
            "快递单号 123456789012345678"
        );
    }

    #[test]
    fn plates_are_masked() {
        assert_eq!(
            redact("京A12345长期占用消防通道"),
            "京A****5长期占用消防通道"
        );
        assert_eq!(redact("粤B·D12345新能源车"), "粤B*****5新能源车");
    }

    #[test]
    fn rooms_are_masked_buildings_kept() {
        assert_eq!(redact("3号楼2单元501室漏水"), "3号楼*单元***室漏水");
        assert_eq!(redact("楼下302室装修"), "楼下***室装修");
        assert_eq!(redact("5号楼1单元302楼上噪音"), "5号楼*单元***楼上噪音");
        assert_eq!(redact("住在7-2-1101"), "住在7-*-****");
        assert_eq!(redact("3号楼前的路灯坏了"), "3号楼前的路灯坏了");
    }

    #[test]
    fn ordinary_text_and_numbers_stay() {
        for s in [
            "晚上10点以后很吵",
            "共有3棵树倒了",
            "2026年11月22日",
            "面积120平方米",
            "温度37度",
        ] {
            assert_eq!(redact(s), s);
        }
    }
}
