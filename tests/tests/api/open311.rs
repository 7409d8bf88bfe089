//! Open311 GeoReport v2 (issue 8): every endpoint in JSON and XML (XML read with a real parser),
//! the specification's example request, errors as its lists, and personal data kept in.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Raw {
    status: StatusCode,
    content_type: String,
    text: String,
}

async fn get(app: &TestApp, path: &str) -> Raw {
    let resp = app
        .http
        .get(format!("{}/open311/v2/{path}", app.base))
        .send()
        .await
        .expect("get");
    raw(resp).await
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Raw {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = app
        .http
        .post(format!("{}/open311/v2/{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post");
    raw(resp).await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn raw(resp: reqwest::Response) -> Raw {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    Raw {
        status,
        content_type,
        text: resp.text().await.expect("text"),
    }
}

fn json_of(r: &Raw) -> Value {
    serde_json::from_str(&r.text).expect("JSON")
}

/// The text of the first `name` element under `node`.
fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(name))
        .map(|c| c.text().unwrap_or(""))
}

async fn key_for(app: &TestApp, area: &str) -> String {
    let r = app
        .post(
            "/api/v1/admin/open311-keys",
            &app.admin_token,
            json!({"name": "12345热线", "area_ids": [area]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["api_key"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn services_and_their_definitions_in_json_and_xml() {
    let app = spawn_app().await;
    World::build(&app).await;
    let attrs = json!([{"code": "NOISE_TIME", "datatype": "singlevaluelist", "required": true, "description": "什么时候最吵？", "order": 1,
        "values": [{"key": "night", "name": "夜间"}, {"key": "day", "name": "白天"}]}]);
    app.create(
        "/api/v1/admin/categories",
        json!({"code": "noise_night", "name": "夜间施工噪音", "group": "环境卫生", "handling_level": "grid", "response_minutes": 60, "resolution_hours": 24, "description": "夜间22点后的施工噪音", "attributes": attrs}),
    )
    .await;

    let r = get(&app, "services.json").await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (StatusCode::OK, "application/json; charset=utf-8")
    );
    let services = json_of(&r);
    let noise = services
        .as_array()
        .and_then(|s| s.iter().find(|x| x["service_code"] == "noise_night"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            noise["metadata"].as_bool(),
            noise["type"].as_str(),
            noise["group"].as_str()
        ),
        (Some(true), Some("realtime"), Some("环境卫生"))
    );
    assert_eq!(noise["description"], "夜间22点后的施工噪音");

    let r = get(&app, "services.xml").await;
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    assert!(
        r.text
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
    );
    let doc = roxmltree::Document::parse(&r.text).expect("XML");
    assert_eq!(doc.root_element().tag_name().name(), "services");
    let items: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("service"))
        .collect();
    assert_eq!(items.len(), 5);
    let xml_noise = items
        .iter()
        .find(|n| child(**n, "service_code") == Some("noise_night"))
        .expect("noise_night");
    assert_eq!(
        (
            child(*xml_noise, "service_name"),
            child(*xml_noise, "metadata")
        ),
        (Some("夜间施工噪音"), Some("true"))
    );

    let def = json_of(&get(&app, "services/noise_night.json").await);
    assert_eq!(def["service_code"], "noise_night");
    assert_eq!(def["attributes"][0]["code"], "NOISE_TIME");
    assert_eq!(def["attributes"][0]["variable"], true);
    assert_eq!(def["attributes"][0]["values"][1]["name"], "白天");
    let r = get(&app, "services/noise_night.xml").await;
    let doc = roxmltree::Document::parse(&r.text).expect("XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "service_definition");
    let attribute = root
        .descendants()
        .find(|n| n.has_tag_name("attribute"))
        .expect("attribute");
    assert_eq!(
        (child(attribute, "datatype"), child(attribute, "required")),
        (Some("singlevaluelist"), Some("true"))
    );
    assert_eq!(
        attribute
            .descendants()
            .filter(|n| n.has_tag_name("value"))
            .count(),
        2
    );

    for path in ["services/dragons.json", "services/dragons.xml"] {
        let r = get(&app, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        if path.ends_with("json") {
            assert_eq!(json_of(&r)[0]["code"], 404);
        } else {
            let doc = roxmltree::Document::parse(&r.text).expect("XML");
            let error = doc
                .root_element()
                .children()
                .find(|n| n.has_tag_name("error"))
                .expect("error");
            assert_eq!(
                (doc.root_element().tag_name().name(), child(error, "code")),
                ("errors", Some("404"))
            );
        }
    }
    assert_eq!(
        get(&app, "services.json?jurisdiction_id=elsewhere.gov")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "services.json?jurisdiction_id=qiaomen.local")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_specifications_example_request_creates_a_routed_ticket_without_leaking_personal_data()
{
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let key = key_for(&app, &w.street).await;
    // The fields of the specification's example POST, on our ground.
    let (lat, lng) = (A2_POINT.0.to_string(), A2_POINT.1.to_string());
    let form = [
        ("api_key", key.as_str()),
        ("jurisdiction_id", "qiaomen.local"),
        ("service_code", "noise"),
        ("lat", lat.as_str()),
        ("long", lng.as_str()),
        ("address_string", "1234 5th street"),
        ("email", "smit222@sfgov.edu"),
        ("device_id", "tt222111"),
        ("account_id", "123456"),
        ("first_name", "john"),
        ("last_name", "smith"),
        ("phone", "111111111"),
        (
            "description",
            "A large sinkhole is destroying the street, call 13812345678",
        ),
        (
            "media_url",
            "http://citysourced.com/content/GetImage.aspx?PHOTO=69",
        ),
    ];
    let r = post(&app, "requests.json", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let created = json_of(&r);
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(id.starts_with("QM-"));
    assert_eq!(
        (
            created[0]["service_notice"].as_str(),
            created[0]["account_id"].is_null()
        ),
        (Some(""), true)
    );

    // Routed like any ticket, channel open311.
    let work = app.get("/api/v1/work/tickets", &w.gw_a2.token).await.body;
    assert_eq!(work["items"][0]["channel"], "open311");
    assert_eq!(work["items"][0]["number"], id.as_str());

    let one = json_of(&get(&app, &format!("requests/{id}.json?api_key={key}")).await);
    let req = &one[0];
    assert_eq!(
        (
            req["status"].as_str(),
            req["service_code"].as_str(),
            req["service_name"].as_str()
        ),
        (Some("open"), Some("noise"), Some("噪音扰民"))
    );
    assert_eq!(req["agency_responsible"], "甲二网格");
    assert!((req["lat"].as_f64().unwrap_or_default() - A2_POINT.0).abs() < 1e-9);
    let text = one.to_string();
    for secret in [
        "13812345678",
        "smit222",
        "john",
        "smith",
        "111111111",
        "123456",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("138****5678"));

    let xml = get(&app, &format!("requests/{id}.xml?api_key={key}")).await;
    let doc = roxmltree::Document::parse(&xml.text).expect("XML");
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let request = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("request"))
        .expect("request");
    assert_eq!(
        (
            child(request, "service_request_id"),
            child(request, "status")
        ),
        (Some(id.as_str()), Some("open"))
    );

    let posted_xml = post(&app, "requests.xml", &form).await;
    let doc = roxmltree::Document::parse(&posted_xml.text).expect("XML");
    let request = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("request"))
        .expect("request");
    assert!(child(request, "service_request_id").is_some_and(|v| v.starts_with("QM-")));
    assert_eq!(child(request, "account_id"), Some(""));
}

/// Open311 serves the same area as the mini-program: 700 m outside every grid is queued at the
/// nearest community (if the key covers it), 16 km away is refused with 422.
#[tokio::test]
async fn a_point_near_the_grids_is_queued_at_the_nearest_community() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let (lat, lng) = (
        NEAR_OUTSIDE_POINT.0.to_string(),
        NEAR_OUTSIDE_POINT.1.to_string(),
    );
    let form = |key: &str| {
        [
            ("api_key", key.to_owned()),
            ("service_code", "noise".to_owned()),
            ("lat", lat.clone()),
            ("long", lng.clone()),
        ]
    };
    let send = |key: String| {
        let app = &app;
        let fields = form(&key);
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(app, "requests.json", &pairs).await
        }
    };
    let r = send(key_for(&app, &w.cb).await).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "CA's queue is not CB's: {}",
        r.text
    );
    let r = send(key_for(&app, &w.ca).await).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let queue = app
        .get("/api/v1/work/tickets", &w.ca_admin.token)
        .await
        .body;
    let number = json_of(&r)[0]["service_request_id"].clone();
    let queued = queue["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["number"] == number).cloned())
        .expect("in CA's queue");
    assert_eq!(queued["status"], "pending_dispatch");
    assert_eq!(queued["handling_area"]["id"], w.ca.as_str());
}

#[tokio::test]
async fn refused_requests_answer_the_specifications_error_lists() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let key_cb = key_for(&app, &w.cb).await;
    let (lat, lng) = (A1_POINT.0.to_string(), A1_POINT.1.to_string());
    let base = |key: &str| {
        vec![
            ("api_key".to_owned(), key.to_owned()),
            ("service_code".into(), "noise".into()),
            ("lat".into(), lat.clone()),
            ("long".into(), lng.clone()),
        ]
    };
    let send = |fields: Vec<(String, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post(app, "requests.json", &pairs).await
        }
    };
    let without_key: Vec<(String, String)> = base("")
        .into_iter()
        .filter(|(k, _)| k != "api_key")
        .collect();
    let r = send(without_key).await;
    assert_eq!(
        (r.status, json_of(&r)[0]["code"].as_u64()),
        (StatusCode::FORBIDDEN, Some(403)),
        "{}",
        r.text
    );
    assert_eq!(send(base("not-a-key")).await.status, StatusCode::FORBIDDEN);
    let mut unknown = base(&key_cb);
    unknown[1].1 = "dragons".into();
    let r = send(unknown).await;
    assert_eq!(
        (r.status, json_of(&r)[0]["code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
    let mut outside = base(&key_cb);
    outside[2].1 = FAR_POINT.0.to_string();
    outside[3].1 = FAR_POINT.1.to_string();
    let r = send(outside).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(json_of(&r)[0]["code"].as_u64(), Some(422));
    assert!(
        json_of(&r)[0]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("outside_service_area") && d.contains("甲一网格")),
        "{}",
        r.text
    );
    let r = send(base(&key_cb)).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a key for community B cannot post into A1: {}",
        r.text
    );
    let nowhere: Vec<(String, String)> = base(&key_cb)
        .into_iter()
        .filter(|(k, _)| k != "lat" && k != "long")
        .collect();
    assert_eq!(send(nowhere).await.status, StatusCode::BAD_REQUEST);
    let r = post(&app, "requests.xml", &[("service_code", "noise")]).await;
    let doc = roxmltree::Document::parse(&r.text).expect("XML");
    let error = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("error"))
        .expect("error");
    assert_eq!(
        (r.status, child(error, "code")),
        (StatusCode::FORBIDDEN, Some("403"))
    );
    assert_eq!(
        app.count("/api/v1/work/tickets", &w.street_admin.token)
            .await,
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn listing_requests_filters_and_keeps_to_ninety_days() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    // Residents' tickets are not public: a client reads them with a key for their area.
    let key = key_for(&app, &w.street).await;
    let get = |app: &TestApp, path: &str| {
        let sep = if path.contains('?') { '&' } else { '?' };
        let path = format!("{path}{sep}api_key={key}");
        let app = app
            .http
            .clone()
            .get(format!("{}/open311/v2/{path}", app.base));
        async move { raw(app.send().await.expect("get")).await }
    };
    let resident = app.resident("r1").await;
    app.clock.advance(chrono::Duration::days(-100));
    let old = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.clock.advance(chrono::Duration::days(100));
    let a = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body;
    let b = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("sanitation", A2_POINT),
        )
        .await
        .body;
    let (a_num, b_num) = (
        a["number"].as_str().unwrap_or_default().to_owned(),
        b["number"].as_str().unwrap_or_default().to_owned(),
    );
    let b_id = b["id"].as_str().unwrap_or_default();
    app.act(b_id, "reject", &w.gw_a2, json!({"reason": "不属于本网格"}))
        .await;

    let numbers = |v: &Value| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["service_request_id"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let all = json_of(&get(&app, "requests.json").await);
    assert_eq!(
        numbers(&all),
        vec![b_num.clone(), a_num.clone()],
        "newest first, the 100-day-old one outside the default window"
    );
    assert_eq!(
        numbers(&json_of(&get(&app, "requests.json?status=open").await)),
        vec![a_num.clone()]
    );
    let closed = json_of(&get(&app, "requests.json?status=closed").await);
    assert_eq!(numbers(&closed), vec![b_num.clone()]);
    assert_eq!(closed[0]["status_notes"], "不属于本网格");
    assert_eq!(
        numbers(&json_of(
            &get(&app, "requests.json?service_code=sanitation").await
        )),
        vec![b_num.clone()]
    );
    let by_id = json_of(
        &get(
            &app,
            &format!("requests.json?service_request_id={old},{a_num}"),
        )
        .await,
    );
    assert_eq!(
        numbers(&by_id).len(),
        2,
        "ids are looked up whatever their age"
    );
    let start = (chrono::Utc::now() - chrono::Duration::days(120))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        numbers(&json_of(
            &get(&app, &format!("requests.json?start_date={start}")).await
        ))
        .len(),
        3
    );
    assert_eq!(
        get(&app, "requests.json?start_date=yesterday").await.status,
        StatusCode::BAD_REQUEST
    );
    let xml = get(&app, "requests.xml?status=open").await;
    let doc = roxmltree::Document::parse(&xml.text).expect("XML");
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.has_tag_name("request"))
            .count(),
        1
    );
    assert_eq!(
        get(&app, "requests/QM-19990101-000001.json").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "tokens/nothing.xml").await.status,
        StatusCode::NOT_FOUND
    );
}
