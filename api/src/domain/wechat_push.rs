//! WeChat's message push (消息推送), as pure functions: the signature over the token, timestamp
//! and nonce (and, in safe mode, the encrypted message), the AES-256-CBC decryption of safe
//! mode, and the events Qiaomen reads, from JSON or XML alike.
//!
//! Safe mode: the key is the EncodingAESKey (43 characters) plus `=`, base64-decoded to 32
//! bytes; the IV is its first 16 bytes; the plaintext is 16 random bytes, the message length
//! (4 bytes, big-endian), the message and the appid, PKCS#7-padded to 32-byte blocks.
use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

/// Why a push is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PushFault {
    BadSignature,
    /// Not decryptable, badly padded, or for another appid.
    BadCiphertext,
    /// Neither JSON nor XML of an event.
    BadBody,
}

/// `sha1(sorted(parts).join(""))` in hex, as WeChat signs a push.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// Compares signatures without leaking where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The 32-byte key of an EncodingAESKey.
pub fn aes_key(encoding_aes_key: &str) -> Option<[u8; 32]> {
    let raw = STANDARD.decode(format!("{encoding_aes_key}=")).ok()?;
    raw.try_into().ok()
}

/// The message inside a safe-mode `Encrypt`, checked to be for `appid`.
pub fn decrypt(key: &[u8; 32], encrypted: &str, appid: &str) -> Result<String, PushFault> {
    let mut buf = STANDARD
        .decode(encrypted.trim())
        .map_err(|_| PushFault::BadCiphertext)?;
    if buf.is_empty() || buf.len() % 16 != 0 {
        return Err(PushFault::BadCiphertext);
    }
    let iv: [u8; 16] = key[..16].try_into().map_err(|_| PushFault::BadCiphertext)?;
    let plain = cbc::Decryptor::<aes::Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|_| PushFault::BadCiphertext)?;
    // PKCS#7 over 32-byte blocks: the last byte says how many bytes of padding.
    let pad = usize::from(*plain.last().ok_or(PushFault::BadCiphertext)?);
    if !(1..=32).contains(&pad) || pad > plain.len() {
        return Err(PushFault::BadCiphertext);
    }
    let body = &plain[..plain.len() - pad];
    if body.len() < 20 {
        return Err(PushFault::BadCiphertext);
    }
    let len_bytes: [u8; 4] = body[16..20]
        .try_into()
        .map_err(|_| PushFault::BadCiphertext)?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let msg = body.get(20..20 + len).ok_or(PushFault::BadCiphertext)?;
    if &body[20 + len..] != appid.as_bytes() {
        return Err(PushFault::BadCiphertext);
    }
    String::from_utf8(msg.to_vec()).map_err(|_| PushFault::BadCiphertext)
}

/// A push body as JSON: JSON as it is, XML with each element as a field (repeated elements as
/// an array, text as a string).
pub fn read_body(body: &str) -> Result<Value, PushFault> {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|_| PushFault::BadBody);
    }
    // An event is a few dozen nodes: more is no event (and no memory spent on it).
    let options = roxmltree::ParsingOptions {
        nodes_limit: 10_000,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(trimmed, options)
        .map_err(|_| PushFault::BadBody)?;
    element(doc.root_element(), 0)
}

/// How deep a push's XML may nest: WeChat's events go three levels down (`xml`, the event's
/// wrapper, `List`); anything much deeper is no event, and is refused before it is walked.
const MAX_XML_DEPTH: usize = 8;

fn element(node: roxmltree::Node, depth: usize) -> Result<Value, PushFault> {
    if depth > MAX_XML_DEPTH {
        return Err(PushFault::BadBody);
    }
    let children: Vec<roxmltree::Node> = node.children().filter(|c| c.is_element()).collect();
    if children.is_empty() {
        return Ok(Value::String(
            node.text().unwrap_or_default().trim().to_owned(),
        ));
    }
    let mut map = Map::new();
    for child in children {
        let name = child.tag_name().name().to_owned();
        let value = element(child, depth + 1)?;
        match map.get_mut(&name) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(name, value);
            }
        }
    }
    Ok(Value::Object(map))
}

/// One template of a subscription event.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStatus {
    pub template_id: String,
    /// `accept` or `reject` (popup and change events); for sent events, `ErrorStatus`.
    pub status: String,
    /// Sent events: the message id and WeChat's error code (0 delivered).
    pub msg_id: Option<String>,
    pub error_code: Option<i64>,
}

/// The events Qiaomen acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    /// The resident answered the subscription popup.
    Popup {
        openid: String,
        list: Vec<TemplateStatus>,
    },
    /// The resident changed a subscription in WeChat's settings.
    Change {
        openid: String,
        list: Vec<TemplateStatus>,
    },
    /// WeChat reports what became of a message it accepted.
    Sent {
        openid: String,
        list: Vec<TemplateStatus>,
    },
    /// The verdict of an asynchronous image check.
    MediaCheck {
        trace_id: String,
        suggest: String,
        label: Option<i32>,
    },
    /// Anything else: acknowledged and ignored.
    Other,
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `List` of an event, in JSON (`List` at the top) or XML (under a wrapper element), one
/// entry or many.
fn lists(v: &Value, wrapper: &str) -> Vec<TemplateStatus> {
    let list = v
        .get("List")
        .or_else(|| v.get(wrapper).and_then(|w| w.get("List")));
    let items: Vec<&Value> = match list {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => vec![],
    };
    items
        .into_iter()
        .filter_map(|item| {
            Some(TemplateStatus {
                template_id: text(item, "TemplateId")?,
                status: text(item, "SubscribeStatusString")
                    .or_else(|| text(item, "ErrorStatus"))
                    .unwrap_or_default(),
                msg_id: text(item, "MsgID"),
                error_code: text(item, "ErrorCode").and_then(|c| c.parse().ok()),
            })
        })
        .collect()
}

/// The event in a (decrypted) push body.
pub fn event(v: &Value) -> PushEvent {
    let openid = text(v, "FromUserName").unwrap_or_default();
    match text(v, "Event").as_deref() {
        Some("subscribe_msg_popup_event") => PushEvent::Popup {
            openid,
            list: lists(v, "SubscribeMsgPopupEvent"),
        },
        Some("subscribe_msg_change_event") => PushEvent::Change {
            openid,
            list: lists(v, "SubscribeMsgChangeEvent"),
        },
        Some("subscribe_msg_sent_event") => PushEvent::Sent {
            openid,
            list: lists(v, "SubscribeMsgSentEvent"),
        },
        Some("wxa_media_check") => PushEvent::MediaCheck {
            trace_id: text(v, "trace_id").unwrap_or_default(),
            suggest: v
                .get("result")
                .and_then(|r| text(r, "suggest"))
                .unwrap_or_default(),
            label: v
                .get("result")
                .and_then(|r| text(r, "label"))
                .and_then(|l| l.parse().ok()),
        },
        _ => PushEvent::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_sha1_over_the_sorted_parts() {
        // sha1("123" + "abc" + "token") — sorted, concatenated.
        assert_eq!(
            signature(&["token", "abc", "123"]),
            hex::encode(Sha1::digest(b"123abctoken"))
        );
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn xml_and_json_events_read_alike() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\
            <FromUserName><![CDATA[o-1]]></FromUserName><CreateTime>1610969440</CreateTime>\
            <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>\
            <SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId>\
            <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
            <List><TemplateId><![CDATA[T2]]></TemplateId>\
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
            </SubscribeMsgPopupEvent></xml>";
        let json = r#"{"ToUserName":"gh_1","FromUserName":"o-1","CreateTime":1610969440,
            "MsgType":"event","Event":"subscribe_msg_popup_event","List":[
            {"TemplateId":"T1","SubscribeStatusString":"accept","PopupScene":"2"},
            {"TemplateId":"T2","SubscribeStatusString":"reject","PopupScene":"2"}]}"#;
        let a = event(&read_body(xml).expect("xml"));
        let b = event(&read_body(json).expect("json"));
        assert_eq!(a, b);
        let PushEvent::Popup { openid, list } = a else {
            panic!("a popup event");
        };
        assert_eq!(openid, "o-1");
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[1].template_id.as_str(), list[1].status.as_str()),
            ("T2", "reject")
        );
        assert_eq!(read_body("<xml><unclosed>"), Err(PushFault::BadBody));
        // Nesting far deeper than any event is refused, not walked (a stack overflow).
        let deep = format!("{}{}", "<a>".repeat(20_000), "</a>".repeat(20_000));
        assert_eq!(read_body(&deep), Err(PushFault::BadBody));
    }

    #[test]
    fn a_sent_event_carries_its_message_id_and_result() {
        let json = r#"{"FromUserName":"o-1","Event":"subscribe_msg_sent_event",
            "List":{"TemplateId":"T1","MsgID":"1700827132819554304","ErrorCode":"43101",
            "ErrorStatus":"failed:user refuse to accept the msg"}}"#;
        let PushEvent::Sent { list, .. } = event(&read_body(json).expect("json")) else {
            panic!("a sent event");
        };
        assert_eq!(list[0].msg_id.as_deref(), Some("1700827132819554304"));
        assert_eq!(list[0].error_code, Some(43101));
    }

    #[test]
    fn ciphertext_that_is_not_ours_is_refused() {
        let key = aes_key("BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY").expect("key");
        assert_eq!(
            aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
            None,
            "not 32 bytes"
        );
        assert_eq!(
            decrypt(&key, "not base64!", "wx1"),
            Err(PushFault::BadCiphertext)
        );
        assert_eq!(decrypt(&key, "AAAA", "wx1"), Err(PushFault::BadCiphertext));
        let garbage = STANDARD.encode([7u8; 64]);
        assert_eq!(
            decrypt(&key, &garbage, "wx1"),
            Err(PushFault::BadCiphertext)
        );
    }
}
