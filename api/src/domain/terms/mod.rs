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

/// Words that say nothing about which problem a text is about.
const STOP_WORDS: &str = "的 了 着 过 吗 呢 吧 啊 呀 哦 嘛 啦 哈 么 得 地 和 与 及 或 也 都 就 还 又 再 才 只 \
     很 太 非常 特别 十分 比较 有点 有些 一点 一些 一直 总是 老是 经常 每天 天天 好几天 几天 好久 \
     一周 一个月 多次 几次 已经 现在 目前 今天 昨天 前天 最近 这几天 这段时间 晚上 夜里 半夜 深夜 \
     白天 早上 中午 下午 凌晨 每晚 我 我们 你 你们 他 他们 她 它 大家 咱 咱们 自己 人 居民 住户 业主 \
     这 那 这个 那个 这里 那里 这边 那边 这儿 那儿 哪里 什么 怎么 为什么 啥 咋 咋整 怎么办 \
     是 有 在 被 把 给 让 对 向 从 到 于 为 以 因为 所以 但是 但 而且 如果 就是 还是 可是 然后 \
     不 没 没有 无 能 会 要 想 请 请问 麻烦 希望 尽快 赶紧 赶快 马上 帮忙 帮 处理 解决 管管 管一管 \
     反映 投诉 举报 建议 问题 情况 一下 谢谢 感谢 您好 你好 领导 相关 部门 有关 看看 看一下 \
     小区 社区 街道 号楼 号院 楼 栋 幢 单元 号 室 层 楼层 户 门牌 附近 旁边 对面 周边 周围 路口 \
     东 西 南 北 里 上 下 前 后 左 右 边 口 处 个 次 天 年 月 日 点 分 块 米 元 条 位 家 只 辆 \
     贼 忒 老 可 真 挺 好 多 少 大 小 说 讲 看 知道 晓得 觉得 感觉 发现 出现 导致 造成 影响 严重 \
     搞 弄 整 去 来 走 做 用 叫 听 打 找 等 过来 起来 下来 出来 一 两 几 多少 全 都是 各种 \
     电话 手机 手机号 号码 联系 联系方式 联系电话 身份证 身份证号 微信 车牌 车牌号";

/// Words the segmenter must keep whole: the synonym table's and the dialect residents write.
const KEEP_WHOLE: &[&str] = &[
    "消防通道",
    "飞线充电",
    "占道经营",
    "广场舞",
    "单元门",
    "楼道灯",
    "声控灯",
    "化粪池",
    "黑灯瞎火",
    "电动车",
    "充电桩",
    "垃圾站",
    "建筑垃圾",
    "大件垃圾",
    "高空抛物",
    "流浪猫",
    "流浪狗",
    "狗屎",
    "狗粪",
    "遛狗",
    "不拴绳",
    "噪音",
    "扰民",
    "违建",
    "私搭乱建",
    // Places, kept whole so they do not glue onto the next word ("楼门口").
    "号楼",
    "号院",
    "门口",
    "楼下",
    "楼上",
    "楼道",
    "单元门",
];

static SEGMENTER: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    for word in SYNONYM_TABLE
        .keys()
        .map(String::as_str)
        .chain(KEEP_WHOLE.iter().copied())
    {
        // A high count makes the segmenter prefer the whole word to its parts.
        jieba.add_word(word, Some(100_000), None);
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
        .cut(&clean, true)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| !w.is_empty() && w.chars().any(|c| is_cjk(c) || c.is_alphabetic()))
        .map(str::to_lowercase)
        .filter(|w| !STOPS.contains(w.as_str()))
        .map(|w| SYNONYM_TABLE.get(&w).cloned().unwrap_or(w))
        .collect()
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
