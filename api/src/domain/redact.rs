//! Redaction of personal data in text: phone numbers (mainland mobiles and landlines), 18-digit
//! resident ID numbers (only when their check digit is right, so order numbers and the like
//! stay), licence plates and, in what leaves the server publicly, house numbers below building
//! level (unit, room), while the building itself stays so the public knows where the problem is.
//!
//! Text is folded before matching: every character whose compatibility form (NFKC) is an ASCII
//! letter, digit, `+`, `-` or space becomes that form (full-width `１３８`, circled and styled
//! digits), and invisible characters (zero-width ones, variation selectors…) are dropped, so `１３８​1234​5678` is a phone like any
//! other. Other characters (Chinese punctuation among them) stay as written. Patterns match ASCII
//! digits only and masks are cut by characters, never by bytes: no input can make this panic.
use std::sync::LazyLock;

use regex::{Captures, Regex};
use unicode_normalization::UnicodeNormalization;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("a fixed pattern: {e}"))
}

/// Digits not glued to other digits (Rust's regex has no look-around, so the edges are captured).
static ID_CARD: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9A-Za-z])([0-9]{17}[0-9Xx])($|[^0-9A-Za-z])"));
static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(^|[^0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})($|[^0-9])")
});
static LANDLINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9])(0[0-9]{2,3}?)([- ]?)([0-9]{7,8})($|[^0-9])"));
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领])([A-HJ-NP-Z])[·•\s]?([A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳])",
    )
});
/// `2单元`, `302室`, `302房`, `12户`, and the room after a unit (`3单元502`).
static UNIT: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9]+\s*(单元)([0-9]{2,4})?"));
static ROOM: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9]{1,5})\s*(室|房|户|号房)"));
/// A person named in a resident's text: `我叫张三`, `联系人：李四`, `姓名 王五` (the name after),
/// and `张先生`, `李阿姨` (a surname before a form of address).
static NAMED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(我叫|我是|本人|联系人|姓名|名字叫|找)([:：\s]*)(\p{Han}{2,3})"));
static ADDRESSED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\p{Han})(先生|女士|小姐|阿姨|大爷|大妈|师傅|老师|奶奶|爷爷)"));
/// `5-2-301` (building–unit–room): the building stays.
static TRIPLE: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9]+)-([0-9]+)-([0-9]+)"));

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
            Some(d) if c.is_ascii_digit() => sum += d * w,
            _ => return false,
        }
    }
    chars[17].to_ascii_uppercase() == CHECK[(sum % 11) as usize]
}

/// Characters that show nothing and only split what they sit in: Unicode's default-ignorable
/// code points (zero-width spaces and joiners, soft hyphens, variation selectors, fillers,
/// invisible operators, direction marks, tag characters).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The text as patterns see it (see the module's documentation).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut buf = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        buf.clear();
        buf.extend(std::iter::once(c).nfkc());
        let plain = !buf.is_empty()
            && buf
                .chars()
                .all(|f| f.is_ascii_alphanumeric() || matches!(f, '+' | '-' | ' '));
        if plain {
            out.push_str(&buf);
        } else {
            out.push(c);
        }
    }
    out
}

fn stars(n: usize) -> String {
    "*".repeat(n)
}

/// The last `n` characters of `s`.
fn tail(s: &str, n: usize) -> String {
    let count = s.chars().count();
    s.chars().skip(count.saturating_sub(n)).collect()
}

/// Phones, ID numbers and plates masked: what staff below the assignee read.
fn mask_people(text: &str) -> String {
    let out = mask_ids_and_phones(text);
    let out = PLATE.replace_all(&out, |c: &Captures| {
        let rest = &c[3];
        let hidden = rest.chars().count().saturating_sub(1);
        format!("{}{}{}{}", &c[1], &c[2], stars(hidden), tail(rest, 1))
    });
    out.into_owned()
}

/// ID numbers and phone numbers masked.
fn mask_ids_and_phones(text: &str) -> String {
    let out = ID_CARD.replace_all(text, |c: &Captures| {
        let id = &c[2];
        if id_checksum_ok(id) {
            let head: String = id.chars().take(3).collect();
            format!("{}{head}{}{}{}", &c[1], stars(13), tail(id, 2), &c[3])
        } else {
            c[0].to_owned()
        }
    });
    let out = MOBILE.replace_all(&out, |c: &Captures| {
        format!("{}{}****{}{}", &c[1], &c[2], &c[4], &c[5])
    });
    let out = LANDLINE.replace_all(&out, |c: &Captures| {
        let num = &c[4];
        let hidden = num.chars().count().saturating_sub(2);
        let sep = if c[3].is_empty() { "" } else { "-" };
        format!(
            "{}{}{sep}{}{}{}",
            &c[1],
            &c[2],
            stars(hidden),
            tail(num, 2),
            &c[5]
        )
    });
    out.into_owned()
}

/// Unit and room numbers masked, the building kept.
fn mask_rooms(text: &str) -> String {
    let out = TRIPLE.replace_all(text, |c: &Captures| {
        format!("{}-{}-{}", &c[1], stars(c[2].len()), stars(c[3].len()))
    });
    let out = UNIT.replace_all(&out, |c: &Captures| {
        let room = c
            .get(2)
            .map(|m| stars(m.as_str().len()))
            .unwrap_or_default();
        format!("*{}{room}", &c[1])
    });
    let out = ROOM.replace_all(&out, |c: &Captures| {
        format!("{}{}", stars(c[1].len()), &c[2])
    });
    out.into_owned()
}

/// Text as the public sees it (the board, Open311, duplicate hints): phones, ID numbers, plates
/// and unit and room numbers masked.
pub fn redact(text: &str) -> String {
    mask_rooms(&mask_people(&fold(text)))
}

/// Text as staff who may see a ticket but do not handle it read it: phones, ID numbers and
/// plates masked; the address stays whole, since they may have to go there.
pub fn mask_personal(text: &str) -> String {
    mask_people(&fold(text))
}

/// A resident's text as the staff who handle their ticket read it: phone and ID numbers masked
/// (a number is behind the logged reveal, wherever the resident wrote it), the rest whole.
pub fn mask_contacts(text: &str) -> String {
    mask_ids_and_phones(&fold(text))
}

/// The phone numbers written in a text, as written (digits only): what a reveal shows.
pub fn phones_in(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut found: Vec<String> = MOBILE
        .captures_iter(&folded)
        .map(|c| format!("{}{}{}", &c[2], &c[3], &c[4]))
        .chain(
            LANDLINE
                .captures_iter(&folded)
                .map(|c| format!("{}-{}", &c[2], &c[4])),
        )
        .collect();
    found.dedup();
    found
}

/// An address with its unit and room numbers masked, the building kept (the retention job).
pub fn without_rooms(address: &str) -> String {
    mask_rooms(&fold(address))
}

/// Names in a text masked: `我叫张三` → `我叫某某`, `王先生` → `某先生`.
fn mask_names(text: &str) -> String {
    let out = NAMED.replace_all(text, |c: &Captures| {
        // `我是` before a word like `业主` or `居民` names no one.
        if ["业主", "居民", "租户", "住户", "志愿者"]
            .iter()
            .any(|w| c[3].starts_with(w))
        {
            return c[0].to_owned();
        }
        format!("{}{}某某", &c[1], &c[2])
    });
    let out = ADDRESSED.replace_all(&out, |c: &Captures| format!("某{}", &c[2]));
    out.into_owned()
}

/// A closed account's texts as kept for the statistics: phones, ID numbers, plates, unit and
/// room numbers and names masked.
pub fn anonymised(text: &str) -> String {
    mask_names(&redact(text))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn handlers_read_contacts_masked_and_a_reveal_finds_them() {
        let text = "我的电话１３９ １２３４ ５６７８，车牌京A12345挡路";
        assert_eq!(mask_contacts(text), "我的电话139****5678，车牌京A12345挡路");
        assert_eq!(phones_in(text), vec!["13912345678".to_owned()]);
        assert_eq!(
            phones_in("物业 010-62345678"),
            vec!["010-62345678".to_owned()]
        );
        assert!(phones_in("订单号 20261128").is_empty());
    }

    #[test]
    fn names_and_rooms_leave_an_anonymised_text() {
        assert_eq!(
            anonymised("我叫张三，住3号楼2单元501室，电话13812345678"),
            "我叫某某，住3号楼*单元***室，电话138****5678"
        );
        assert_eq!(anonymised("联系人：李四 王先生说"), "联系人：某某 某先生说");
        assert_eq!(anonymised("我是业主，楼道灯坏了"), "我是业主，楼道灯坏了");
        assert_eq!(without_rooms("幸福里5-2-301"), "幸福里5-*-***");
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(redact("联系电话13812345678"), "联系电话138****5678");
        assert_eq!(redact("call +86 138-1234-5678 now"), "call 138****5678 now");
        assert_eq!(
            redact("物业 010-62345678 或 0571 87654321"),
            "物业 010-******78 或 0571-******21"
        );
        assert_eq!(redact("电话01062345678"), "电话010******78");
    }

    #[test]
    fn full_width_and_split_phones_are_masked_without_panicking() {
        // ASCII 0 then full-width digits: a byte-sliced mask used to panic here.
        assert_eq!(redact("0１０６２３４５６７８"), "010******78");
        assert_eq!(redact("电话１３８１２３４５６７８"), "电话138****5678");
        assert_eq!(redact("电话138\u{200B}1234\u{200D}5678"), "电话138****5678");
        assert_eq!(
            redact("电话138\u{FE0F}1234\u{E0041}5678"),
            "电话138****5678"
        );
        assert_eq!(
            redact("身份证１１０１０５１９４９１２３１００２Ｘ"),
            "身份证110*************2X"
        );
        // Chinese punctuation is not folded.
        assert_eq!(redact("你好，谢谢！"), "你好，谢谢！");
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
        assert_eq!(redact("12户"), "**户");
    }

    #[test]
    fn staff_below_the_assignee_keep_the_address() {
        assert_eq!(
            mask_personal("3号楼2单元501室，电话13812345678，车牌京A12345"),
            "3号楼2单元501室，电话138****5678，车牌京A****5"
        );
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

    fn ascii_digits_and_stars(s: &str) -> usize {
        s.chars()
            .filter(|c| c.is_ascii_digit() || *c == '*')
            .count()
    }

    proptest! {
        #[test]
        fn redaction_of_any_text_never_panics_or_lengthens(s in "\\PC{0,80}") {
            let folded = fold(&s);
            for out in [redact(&s), mask_personal(&s)] {
                prop_assert!(out.chars().count() <= folded.chars().count());
            }
        }

        #[test]
        fn digit_heavy_text_never_panics_or_lengthens_a_digit_run(
            s in "[0-9０-９①-⑨ \\-+室户单元号房京A-Z\u{200B}\u{FEFF}]{0,40}"
        ) {
            let folded = fold(&s);
            let out = redact(&s);
            prop_assert!(out.chars().count() <= folded.chars().count());
            prop_assert!(ascii_digits_and_stars(&out) <= ascii_digits_and_stars(&folded) + plate_letters(&folded));
        }

        #[test]
        fn a_mobile_written_any_way_is_masked(
            digits in "1[3-9][0-9]{9}",
            wide in proptest::collection::vec(any::<bool>(), 11),
            split in proptest::collection::vec(any::<bool>(), 11),
        ) {
            let mut text = String::from("电话");
            for (i, d) in digits.chars().enumerate() {
                let c = if wide[i] {
                    char::from_u32('０' as u32 + d.to_digit(10).unwrap_or(0)).unwrap_or(d)
                } else {
                    d
                };
                text.push(c);
                if split[i] {
                    text.push('\u{200B}');
                }
            }
            text.push_str("请回电");
            prop_assert_eq!(
                redact(&text),
                format!("电话{}****{}请回电", &digits[..3], &digits[7..])
            );
        }
    }

    /// Letters of a plate that a mask may turn into stars.
    fn plate_letters(s: &str) -> usize {
        s.chars().filter(|c| c.is_ascii_uppercase()).count()
    }
}
