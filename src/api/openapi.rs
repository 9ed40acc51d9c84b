//! The OpenAPI description served at `/openapi.json`.

use crate::attendance::Outcome;
use serde_json::{json, Value};

fn message(outcomes: &[Outcome]) -> Value {
    json!({
        "description": outcomes.iter().map(|o| o.message()).collect::<Vec<_>>().join(" | "),
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Message" } } }
    })
}

/// The document.
pub fn document() -> Value {
    use Outcome::*;
    let internal = message(&[InternalError]);
    let mail_responses = json!({
        "200": { "description": "Mail sent successfully (with `sent`, and `failed`: [{to, roll_no, name, reason}] for the students whose message the mail server did not take, and why), or Nobody was mailed (the mail server is not contacted)" },
        "401": { "description": "Unauthorized (only with a token configured)" },
        "503": { "description": "Mail is not set up; `setting` names the setting to fill in" },
        "500": { "description": "Internal server error; `reason` says what the mail server did" }
    });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Rollcall",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The old attendance system's HTTP API, served by Rollcall. With a token configured, /upload, /getdata and the mail endpoints need `Authorization: Bearer <token>` (the old clients do not send it, so it is off by default). With door tokens or door addresses configured, /attendance needs a door token or a listed address."
        },
        "components": {
            "schemas": {
                "Message": { "type": "object", "properties": { "message": { "type": "string" } }, "required": ["message"] }
            },
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } }
        },
        "paths": {
            "/upload": { "post": {
                "summary": "Enrol a student from 1 to 10 photos",
                "security": [{}, { "bearer": [] }],
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": {
                        "rollno": { "type": "string" },
                        "name": { "type": "string" },
                        "email": { "type": "string" },
                        "images": { "type": "array", "items": { "type": "string", "format": "binary" } }
                    },
                    "required": ["rollno", "name", "email", "images"]
                } } } },
                "responses": {
                    "200": { "description": "User added successfully & training started; `photos_used` and `photos_not_used` ([{photo, reason}]) say which photos were left out and why; `looks_like` ([{rollno, name}]) names students already enrolled whom the photos would be recognised as (perhaps the same student twice)" },
                    "400": { "description": "No images found | Maximum 10 images are allowed | Invalid data (with `reason`, and `photos_not_used` when no photo is usable: nothing is stored) | User already exists" },
                    "401": { "description": "Unauthorized (only with a token configured)" },
                    "403": { "description": "The server runs at a door whose login to the school server may only add marks: enrol at the office (the `message` says so, `reason` too)" },
                    "500": { "description": "Internal server error; with `reason` when it is something the school can put right (the database busy or the disk full)" },
                    "503": { "description": "A machine linked to a school server that has not reached it yet: try again once it has (the `message` says so, `reason` too)" }
                }
            } },
            "/attendance": { "post": {
                "summary": "Mark attendance from one photo",
                "security": [{}, { "bearer": [] }],
                "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": {
                    "type": "object",
                    "properties": { "file": { "type": "string", "format": "binary" } },
                    "required": ["file"]
                } } } },
                "responses": {
                    "200": message(&[AttendanceMarked]),
                    "400": message(&[InvalidData]),
                    "404": message(&[NoFace, UserNotFound, AlreadyMarked, AbsentByHand]),
                    "401": { "description": "Unauthorized (only with door tokens or door addresses configured: send a door token)" },
                    "503": { "description": "The server is busy; please try again in a moment (see Retry-After)" },
                    "500": { "description": "Internal server error; with `reason` when it is something the school can put right: the server's clock is wrong (marks made there while its clock was ahead are dated wrong, or a school server's clock is an hour or more away: nobody is marked until it is set right), the database is busy or the disk full" }
                }
            } },
            "/getdata": { "get": {
                "summary": "Attendance of every student on every class day (1 present, 0 absent)",
                "security": [{}, { "bearer": [] }],
                "responses": {
                    "200": { "description": "The dashboard data", "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "data": { "type": "array", "items": { "type": "object", "properties": {
                                "id": { "type": "string" },
                                "dates": { "type": "array", "items": { "type": "integer", "enum": [0, 1] } }
                            } } },
                            "ids": { "type": "array", "items": { "type": "string" } },
                            "unique_dates": { "type": "array", "items": { "type": "string", "format": "date" } }
                        }
                    } } } },
                    "401": { "description": "Unauthorized (only with a token configured)" },
                    "500": internal
                }
            } },
            "/sendmailall": { "post": {
                "summary": "Email every student their attendance",
                "security": [{}, { "bearer": [] }],
                "responses": mail_responses.clone()
            } },
            "/sendmaillees": { "post": {
                "summary": "Email the students under the attendance threshold (85 % by default)",
                "security": [{}, { "bearer": [] }],
                "responses": mail_responses.clone()
            } },
            "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3" } } } }
        }
    })
}
