//! `Params<T>`: the original's parameter lookup. A key may come from the query string or from the JSON body (DELETE
//! bodies included), the query winning, as egg's `ctx.query[key] || ctx.request.body[key]`; the merged object is
//! deserialized into the route's type, whose numeric fields take numbers or numeric strings (`protocol::lenient`).
//! A missing member answers the original's `缺少参数`.
//!
//! Several extractors of one request may take `Params` (an access guard reads `appId`, the handler the rest): the
//! body is read once, by a shared future kept in the request's extensions. Only a JSON body is read: any other
//! (a multipart upload) is left to the handler, which streams it.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ConsoleError;

/// The largest JSON body a console route reads (file uploads are multipart and streamed elsewhere).
const MAX_BODY: usize = 1 << 20;

pub struct Params<T>(pub T);

/// The merged parameters as JSON text, or why they could not be read.
type Merged = Shared<LocalBoxFuture<'static, Result<Rc<String>, String>>>;

#[derive(Clone)]
struct MergedParams(Merged);

impl<T: DeserializeOwned + 'static> FromRequest for Params<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let existing = req.extensions().get::<MergedParams>().cloned();
        let merged = match existing {
            Some(MergedParams(merged)) => merged,
            None => {
                let merged = read(req, payload).boxed_local().shared();
                req.extensions_mut().insert(MergedParams(merged.clone()));
                merged
            }
        };
        Box::pin(async move {
            let text = merged.await.map_err(ConsoleError::bad)?;
            common::signed::parse(&text).map(Params).map_err(ConsoleError::from)
        })
    }
}

fn read(req: &HttpRequest, payload: &mut Payload) -> impl Future<Output = Result<Rc<String>, String>> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string()).map(|q| q.into_inner());
    let is_json = req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let body = is_json.then(|| web::Bytes::from_request(req, payload));
    async move {
        let query = query.map_err(|e| format!("query string: {e}"))?;
        let mut merged = Map::new();
        let body = match body {
            Some(body) => body.await.map_err(|e| format!("request body: {e}"))?,
            None => web::Bytes::new(),
        };
        if body.len() > MAX_BODY {
            return Err("request body too large".into());
        }
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(object)) => merged = object,
                Ok(_) => return Err("the JSON body must be an object".into()),
                Err(e) => return Err(format!("JSON body: {e}")),
            }
        }
        for (key, value) in query {
            merged.insert(key, Value::String(value));
        }
        Ok(Rc::new(Value::Object(merged).to_string()))
    }
}
