//! The words of a resident's text, as duplicate detection and the category model read them:
//! Chinese segmented into words (jieba), numbers and personal data (phones, ID numbers, plates,
//! rooms) left out, words that say nothing about the problem (的, 我, 号楼, 晚上, 麻烦) dropped,
//! and near-synonyms residents use for one thing (井盖/下水道盖子, 小广告/牛皮癣) read as one.
//!
//! [`Weights`] says how telling a word is: rare words in an area's tickets count more than the
//! ones every ticket there has (its street, "门口"); [`Weights::similarity`] compares two texts by
//! the words they share, weighted so.
use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use jieba_rs::Jieba;

/// The near-synonym table: one group per line, the first word stands for the rest.
const SYNONYMS: &str = include_str!("synonyms.txt");

/// Words that say nothing about which problem a text is about, beyond what their part of
/// speech already says (see [`SAYS_NOTHING`]): greetings, fillers, dialect particles.
const STOP_WORDS: &str = "的 了 着 过 吗 呢 吧 啊 呀 哦 嘛 啦 哈 么 得 地 和 与 及 或 也 都 就 还 又 再 才 只 \
     很 太 非常 特别 十分 比较 有点 有些 一点 一些 一直 总是 老是 经常 每天 天天 好几天 几天 好久 好久没 \
     已经 现在 目前 今天 昨天 前天 最近 这几天 我 我们 我要 你 你们 他 他们 她 它 大家 咱 咱们 自己 \
     人 有人 居民 住户 业主 邻居 是 有 在 被 把 给 让 对 向 从 到 于 为 以 因为 所以 但是 但 而且 如果 \
     就是 还是 可是 然后 不 没 没有 无 能 会 要 想 请 请问 问 麻烦 希望 尽快 赶紧 赶快 马上 帮忙 帮 \
     帮帮忙 处理 解决 管 管管 管一管 没人管 人管 有没有 反映 投诉 举报 建议 问题 情况 一下 谢谢 感谢 \
     您好 你好 领导 相关 部门 有关 看看 看一下 生活 影响 闹心 来气 瞅 气 伐 侬 晓得 咋整 咋办 这可 \
     搞么子 真是 办法 没得 莫得 啥 啥子 咋 贼 忒 老 蛮 可 真 挺 好 多 少 大 小 好多 老多 到处 全是 \
     很多 太多 一片 说 讲 看 知道 觉得 感觉 发现 出现 导致 造成 严重 担心 害怕 危险 安全隐患 存在 \
     搞 弄 整 去 来 走 做 用 叫 听 打 找 等 过来 起来 下来 出来 一 两 几 多少 全 各种 受不了 \
     电话 手机 手机号 号码 联系 联系方式 联系电话 身份证 身份证号 微信 车牌 车牌号 打电话 \
     单元 号 室 层 楼层 户 栋 幢 楼 院 门牌 米 元 条 位 家 只 辆 次 天 年 月 日 点 分 块 个";

/// Parts of speech (jieba's tags) that never tell the problem: places and directions, times,
/// numbers and measures, pronouns, prepositions, conjunctions, particles, adverbs. (Not names:
/// the dictionary takes 井盖 for one.)
const SAYS_NOTHING: &[&str] = &[
    "ns", "nsf", "s", "f", "t", "tg", "m", "mq", "q", "r", "rr", "rz", "p", "c", "u", "uj", "ul",
    "uz", "ud", "ug", "uv", "y", "e", "o", "d",
];

/// Words the segmenter must keep whole, with their part of speech: things residents name, and
/// places (kept whole so they do not glue onto the next word, "楼门口", and then left out).
const KEEP_WHOLE: &[(&str, &str)] = &[
    ("单元门", "n"),
    ("楼道", "n"),
    ("高空抛物", "n"),
    ("流浪猫", "n"),
    ("流浪狗", "n"),
    ("遛狗", "v"),
    ("不拴绳", "v"),
    ("号楼", "s"),
    ("号院", "s"),
    ("门口", "s"),
    ("楼下", "s"),
    ("楼上", "s"),
    ("东门", "s"),
    ("西门", "s"),
    ("南门", "s"),
    ("北门", "s"),
    ("南门口", "s"),
    ("大门口", "s"),
    ("幼儿园", "s"),
    ("菜市场", "s"),
    ("路口", "s"),
    ("大街", "s"),
    ("胡同", "s"),
    ("小区", "s"),
    ("社区", "s"),
    ("附近", "s"),
    ("旁边", "s"),
    ("对面", "s"),
];

static SEGMENTER: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    let words = SYNONYM_TABLE
        .keys()
        .map(|w| (w.as_str(), "n"))
        .chain(KEEP_WHOLE.iter().copied());
    for (word, tag) in words {
        // A high count makes the segmenter prefer the whole word to its parts.
        jieba.add_word(word, Some(100_000), Some(tag));
    }
    jieba
});

static SYNONYM_TABLE: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut table = HashMap::new();
    for line in SYNONYMS.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let Some(head) = words.next() else { continue };
        table.insert(head.to_owned(), head.to_owned());
        for w in words {
            table.insert(w.to_owned(), head.to_owned());
        }
    }
    table
});

static STOPS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

/// Loads the segmenter's dictionary now rather than on the first text read (a few hundred
/// milliseconds): called at start-up.
pub fn warm_up() {
    LazyLock::force(&SEGMENTER);
}

/// The text with personal data and every digit gone: what is left says what the problem is.
fn without_numbers(text: &str) -> String {
    crate::domain::redact::redact(text)
        .chars()
        .map(|c| {
            if c.is_numeric() && !is_cjk(c) || c == '*' || c == '＊' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// The words of a text that tell its problem, near-synonyms folded, in order (repeats kept).
pub fn words(text: &str) -> Vec<String> {
    let clean = without_numbers(text);
    SEGMENTER
        .tag(&clean, true)
        .into_iter()
        .filter(|t| !SAYS_NOTHING.contains(&t.tag))
        .map(|t| t.word.trim())
        .filter(|w| !w.is_empty() && w.chars().any(|c| is_cjk(c) || c.is_alphabetic()))
        .map(str::to_lowercase)
        .filter(|w| !STOPS.contains(w.as_str()))
        .map(|w| SYNONYM_TABLE.get(&w).cloned().unwrap_or(w))
        .collect()
}

/// What texts are compared by: their words, and each word's Chinese character pairs marked
/// apart (`~路灯`), which still match where a typo or an odd cut split a word (路登 and 路灯
/// share nothing, 盏路灯 and 路灯 share a pair).
pub fn features(text: &str) -> Vec<String> {
    let words = words(text);
    let mut out: Vec<String> = Vec::with_capacity(words.len() * 3);
    for w in &words {
        let chars: Vec<char> = w.chars().collect();
        for pair in chars.windows(2) {
            out.push(format!("~{}{}", pair[0], pair[1]));
        }
        out.push(w.clone());
    }
    out
}

/// How telling each word is among a set of texts (inverse document frequency, smoothed).
#[derive(Clone, Debug, Default)]
pub struct Weights {
    texts: u32,
    containing: HashMap<String, u32>,
}

impl Weights {
    /// The weights of words in these texts (each text's words, as [`words`] gives them).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut w = Weights::default();
        for words in texts {
            w.texts += 1;
            let distinct: HashSet<&String> = words.iter().collect();
            for word in distinct {
                *w.containing.entry(word.clone()).or_default() += 1;
            }
        }
        w
    }

    /// A word's weight: ln((n + 1) / (texts with it + 1)) + 1; an unseen word weighs most.
    pub fn of(&self, word: &str) -> f64 {
        let df = self.containing.get(word).copied().unwrap_or(0);
        (f64::from(self.texts + 1) / f64::from(df + 1)).ln() + 1.0
    }

    /// 0 (no word shared) to 1 (the same words): the cosine of the two texts' weighted word
    /// sets.
    pub fn similarity(&self, a: &[String], b: &[String]) -> f64 {
        let (a, b): (HashSet<&String>, HashSet<&String>) = (a.iter().collect(), b.iter().collect());
        let norm = |s: &HashSet<&String>| s.iter().map(|w| self.of(w).powi(2)).sum::<f64>().sqrt();
        let (na, nb) = (norm(&a), norm(&b));
        if na == 0.0 || nb == 0.0 {
            return 0.0;
        }
        let shared: f64 = a.intersection(&b).map(|w| self.of(w).powi(2)).sum();
        shared / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residents_words_for_one_broken_thing_are_read_as_one() {
        let a = words("井盖丢了，差点崴脚");
        let b = words("下水道盖子没了，晚上很危险");
        assert!(
            a.contains(&"井盖".to_owned()) && b.contains(&"井盖".to_owned()),
            "{a:?} {b:?}"
        );
        assert!(a.contains(&"丢失".to_owned()) && b.contains(&"丢失".to_owned()));
        assert!(words("楼下好多牛皮癣").contains(&"小广告".to_owned()));
        assert!(words("小黄车堵在门口").contains(&"共享单车".to_owned()));
    }

    #[test]
    fn numbers_and_personal_data_say_nothing() {
        let w = words("3号楼2单元501门口路灯不亮，电话13812345678，身份证110101199003071234");
        assert!(
            w.iter().all(|x| !x.chars().any(|c| c.is_ascii_digit())),
            "{w:?}"
        );
        assert!(
            w.contains(&"路灯".to_owned()) && w.contains(&"不亮".to_owned()),
            "{w:?}"
        );
        assert!(
            !w.iter().any(|x| x == "号楼" || x == "单元" || x == "电话"),
            "{w:?}"
        );
    }

    #[test]
    fn rare_shared_words_make_texts_alike_place_names_do_not() {
        let texts = [
            "井盖丢了，差点崴脚",
            "下水道盖子没了，晚上很危险",
            "3号楼门口路灯不亮",
            "3号楼门口的单元门关不上",
            "门口垃圾没人清理",
            "门口停满了车",
        ]
        .map(words);
        let w = Weights::from_texts(texts.iter().map(Vec::as_slice));
        let same = w.similarity(&texts[0], &texts[1]);
        let place = w.similarity(&texts[2], &texts[3]);
        assert!(same > 0.35, "{same}");
        assert!(place < 0.2, "{place} vs {same}");
        assert_eq!(w.similarity(&[], &texts[0]), 0.0);
        assert!((w.similarity(&texts[2], &texts[2]) - 1.0).abs() < 1e-9);
    }
}
