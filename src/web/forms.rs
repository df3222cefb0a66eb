//! Reading form posts that carry files: `multipart/form-data` (read with size
//! limits, so an oversized upload gets a clear message instead of exhausting
//! memory) and, for the same handlers, plain urlencoded forms.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

/// A file of the form.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The form field it came in.
    pub field: String,
    /// The name the browser gave (never used as a path).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The fields and files of a posted form.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

impl FormData {
    /// The first value of a field ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// How much a form may carry.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All files and fields together.
    pub total: usize,
    /// One text field.
    pub field: usize,
    /// Number of files.
    pub files: usize,
}

fn mb(n: usize) -> String {
    format!("{} MB", n / (1024 * 1024))
}

/// Reads the form, whichever way it was encoded. The error is a message for people.
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limits: Limits,
) -> Result<FormData, String> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = || {
        format!(
            "The upload is too large: at most {} at a time.",
            mb(limits.total)
        )
    };
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| format!("The form could not be read: {e}"))?;
            if body.len() + chunk.len() > limits.field.max(64 * 1024) {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map_err(|e| format!("The form could not be read: {e}"))?;
        return Ok(FormData {
            fields,
            files: Vec::new(),
        });
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err("Send the form as multipart/form-data.".to_owned());
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut form = FormData::default();
    let mut total = 0_usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| format!("The upload could not be read: {e}"))?;
        let name = field.name().unwrap_or("").to_owned();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let cap = if filename.is_some() {
            limits.total
        } else {
            limits.field
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| format!("The upload could not be read: {e}"))?;
            total += chunk.len();
            if total > limits.total {
                return Err(too_large());
            }
            if bytes.len() + chunk.len() > cap {
                return Err(match filename {
                    Some(_) => too_large(),
                    None => format!("The field \"{name}\" is too long."),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match filename {
            // A file input left empty still sends a nameless, empty part.
            Some(f) if f.is_empty() && bytes.is_empty() => {}
            Some(f) => {
                if form.files.len() >= limits.files {
                    return Err(format!("At most {} files at a time.", limits.files));
                }
                form.files.push(UploadedFile {
                    field: name,
                    name: f.chars().take(200).collect(),
                    bytes,
                });
            }
            None => {
                let value = String::from_utf8(bytes)
                    .map_err(|_| format!("The field \"{name}\" is not valid text."))?;
                form.fields.push((name, value));
            }
        }
    }
    Ok(form)
}
