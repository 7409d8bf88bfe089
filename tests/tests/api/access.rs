//! Access (SPEC §5): out-of-scope tickets answer 404; anonymity and phone masking by role.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn residents_see_only_their_own_tickets() {
    let app = spawn_app().await;
    World::build(&app).await;
    let alice = app.resident("alice").await;
    let bob = app.resident("bob").await;
    let r = app
        .post("/api/v1/tickets", &alice, complaint_at("noise", A1_POINT))
        .await;
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let number = r.body["number"].as_str().unwrap_or_default().to_owned();
    for path in [
        format!("/api/v1/tickets/{id}"),
        format!("/api/v1/tickets/{number}"),
    ] {
        let r = app.get(&path, &bob).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }
    let r = app
        .post(&format!("/api/v1/tickets/{id}/withdraw"), &bob, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/v1/tickets", &bob).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
    // A resident cannot use staff endpoints.
    let r = app
        .post(&format!("/api/v1/tickets/{id}/accept"), &alice, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get("/api/v1/work/tickets", &alice).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_see_their_grids_admins_see_below_them() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let a1 = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let b1 = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", B1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let visible = |token: String| {
        let app = &app;
        async move {
            let page = app.get("/api/v1/work/tickets", &token).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let mut ids: Vec<String> = page.body["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|t| t["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut both = vec![a1.clone(), b1.clone()];
    both.sort();
    assert_eq!(visible(w.gw_a1.token.clone()).await, vec![a1.clone()]);
    assert_eq!(
        visible(w.ga_a1.token.clone()).await,
        vec![a1.clone()],
        "assistants see their grid"
    );
    assert_eq!(visible(w.gw_a2.token.clone()).await, Vec::<String>::new());
    assert_eq!(visible(w.ca_admin.token.clone()).await, vec![a1.clone()]);
    assert_eq!(visible(w.cb_admin.token.clone()).await, vec![b1.clone()]);
    assert_eq!(visible(w.street_admin.token.clone()).await, both);
    assert_eq!(visible(app.admin_token.clone()).await, both);
    assert_eq!(
        visible(w.dept.token.clone()).await,
        Vec::<String>::new(),
        "noise is not the department's group"
    );

    assert_eq!(
        app.get(&format!("/api/v1/tickets/{a1}"), &w.gw_a2.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{a1}"), &w.cb_admin.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{a1}"), &w.street_admin.token)
            .await
            .status,
        StatusCode::OK
    );
    // Out of scope, acting is 404 too; in scope but not the assignee, 403.
    let r = app.act(&a1, "accept", &w.gw_a2, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.act(&a1, "accept", &w.ga_a1, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "not_assignee")
    );

    // Filters.
    let r = app
        .get(
            &format!("/api/v1/work/tickets?status=assigned&grid_id={}", w.b1),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));
    let r = app
        .get("/api/v1/work/tickets?status=closed", &w.street_admin.token)
        .await;
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(0));
    let r = app
        .get(
            "/api/v1/work/tickets?status=nonsense",
            &w.street_admin.token,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn phones_are_masked_except_for_the_assignee_and_anonymity_hides_the_reporter() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let open = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body;
    let id = open["id"].as_str().unwrap_or_default();
    assert_eq!(
        open["contact_phone"], "13812341234",
        "the resident sees their own number"
    );
    let as_assignee = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await
        .body;
    assert_eq!(
        as_assignee["contact_phone"], "138****1234",
        "masked for the assignee too: the number is behind reveal-contact"
    );
    let as_admin = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await
        .body;
    assert_eq!(as_admin["contact_phone"], "138****1234");
    assert!(as_admin["resident_id"].is_string());

    let mut body = complaint_at("noise", A1_POINT);
    body["anonymous"] = json!(true);
    let anon = app.post("/api/v1/tickets", &resident, body).await.body;
    let id = anon["id"].as_str().unwrap_or_default();
    let as_worker = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await
        .body;
    assert!(
        as_worker["resident_id"].is_null() && as_worker["contact_phone"].is_null(),
        "{as_worker}"
    );
    let as_admin = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await
        .body;
    assert!(as_admin["resident_id"].is_string());
    assert_eq!(as_admin["contact_phone"], "138****1234");
}

/// Follows `next_cursor` from `path` two at a time; the ids in the order they came.
async fn walk(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{path}{sep}limit=2");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&url, token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2);
        ids.extend(
            items
                .iter()
                .filter_map(|t| t["id"].as_str().map(str::to_owned)),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
        assert!(ids.len() < 100, "paging does not end");
    }
}

/// Work lists are read range by range (own tickets, each grid, each area, each status) and
/// merged: every ticket comes exactly once, newest first, whichever ranges hold it.
#[tokio::test]
async fn work_lists_page_through_every_ticket_once_newest_first() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let mut a1 = Vec::new();
    for _ in 0..7 {
        a1.push(app.new_ticket(&resident, "noise", A1_POINT).await);
    }
    let b1 = app.new_ticket(&resident, "noise", B1_POINT).await;
    // Three in progress, one of them resolved: the worker's tickets span three statuses.
    for id in &a1[..3] {
        let r = app.act(id, "accept", &w.gw_a1, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = app
        .post(
            &format!("/api/v1/tickets/{}/resolve", a1[0]),
            &w.gw_a1.token,
            json!({"note": "已处理"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let newest_first = |ids: &[String]| ids.iter().rev().cloned().collect::<Vec<_>>();

    // The worker's tickets are both their own and their grid's: each still comes once.
    let all = walk(&app, &w.gw_a1.token, "/api/v1/work/tickets").await;
    assert_eq!(all, newest_first(&a1));
    let open = walk(
        &app,
        &w.gw_a1.token,
        "/api/v1/work/tickets?status=assigned,in_progress",
    )
    .await;
    assert_eq!(open, newest_first(&a1[1..]));
    let accepted = walk(
        &app,
        &w.ga_a1.token,
        "/api/v1/work/tickets?status=in_progress",
    )
    .await;
    assert_eq!(accepted, newest_first(&a1[1..3]));

    // The street admin's scope is many ranges: few statuses are merged, all of them read at once.
    let mut street = a1.clone();
    street.push(b1);
    let all = walk(&app, &w.street_admin.token, "/api/v1/work/tickets").await;
    assert_eq!(all, newest_first(&street));
    let assigned = walk(
        &app,
        &w.street_admin.token,
        "/api/v1/work/tickets?status=assigned",
    )
    .await;
    assert_eq!(assigned, newest_first(&street[3..]));
}

/// A work list answered from memory on one node shows, at its next read, every change made to
/// its tickets anywhere: through another node's API (a new ticket, a status, an assignment)
/// or written straight into the database, which raises the scope's change stamps itself.
#[tokio::test]
async fn a_work_list_shows_changes_made_on_another_node_at_once() {
    use sea_orm::{
        ColumnTrait, EntityTrait, QueryFilter,
        sea_query::{Expr, ExprTrait},
    };
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let listed = |body: &serde_json::Value| -> Vec<(String, String)> {
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|t| {
                        let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
                        (s("id"), s("status"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let open = "/api/v1/work/tickets?status=assigned,in_progress";
    let read = |who: &'static str| {
        let token = match who {
            "gw_a1" => w.gw_a1.token.clone(),
            _ => w.gw_a2.token.clone(),
        };
        let peer = &peer;
        async move {
            let r = peer.get(open, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            listed(&r.body)
        }
    };
    // Read twice: the second answer is the kept one.
    assert_eq!(read("gw_a1").await, vec![]);
    assert_eq!(read("gw_a1").await, vec![]);
    assert_eq!(read("gw_a2").await, vec![]);

    // A new ticket in the worker's grid, submitted on the first node.
    let t = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let id = t.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(t.body["assignee"]["id"], w.gw_a1.id.as_str());
    assert_eq!(read("gw_a1").await, vec![(id.clone(), "assigned".into())]);
    assert_eq!(read("gw_a1").await, vec![(id.clone(), "assigned".into())]);

    // Kept, the page still shows its timings as of now: once the clock passes the response
    // deadline, the ticket shows as overdue.
    let overdue = || async {
        let r = peer.get(open, &w.gw_a1.token).await;
        r.body["items"][0]["overdue"].clone()
    };
    assert_eq!(overdue().await, json!(false));
    assert_eq!(overdue().await, json!(false));
    app.clock.advance(chrono::Duration::days(3));
    assert_eq!(overdue().await, json!(true));

    // Its status changed there.
    let r = app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        read("gw_a1").await,
        vec![(id.clone(), "in_progress".into())]
    );

    // Assigned there to a worker of another grid: the ticket moves to that grid (its grid and
    // handling area agree), into that worker's list and out of the first one's.
    let r = app
        .act(
            &id,
            "assign",
            &w.street_admin,
            json!({"staff_id": w.gw_a2.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(read("gw_a2").await, vec![(id.clone(), "assigned".into())]);
    assert_eq!(read("gw_a1").await, vec![]);

    // Written straight into the database: resolved, it leaves the list.
    let uuid = uuid::Uuid::parse_str(&id).expect("ticket id");
    let changed = entity::ticket::Entity::update_many()
        .col_expr(entity::ticket::Column::Status, Expr::value("resolved"))
        .col_expr(
            entity::ticket::Column::Version,
            Expr::col(entity::ticket::Column::Version).add(1),
        )
        .filter(entity::ticket::Column::Id.eq(uuid))
        .exec(&app.state.db)
        .await
        .expect("update");
    assert_eq!(changed.rows_affected, 1);
    assert_eq!(read("gw_a1").await, vec![]);
    assert_eq!(read("gw_a2").await, vec![]);

    // And deleted there, with its events: gone from the unfiltered list too.
    let all = peer.get("/api/v1/work/tickets", &w.gw_a2.token).await;
    assert_eq!(listed(&all.body), vec![(id.clone(), "resolved".into())]);
    entity::ticket_event::Entity::delete_many()
        .filter(entity::ticket_event::Column::TicketId.eq(uuid))
        .exec(&app.state.db)
        .await
        .expect("delete events");
    entity::notification_outbox::Entity::delete_many()
        .filter(entity::notification_outbox::Column::TicketId.eq(uuid))
        .exec(&app.state.db)
        .await
        .expect("delete outbox");
    entity::ticket::Entity::delete_by_id(uuid)
        .exec(&app.state.db)
        .await
        .expect("delete ticket");
    let all = peer.get("/api/v1/work/tickets", &w.gw_a2.token).await;
    assert_eq!(listed(&all.body), vec![]);
}
