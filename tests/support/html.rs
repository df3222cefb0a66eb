//! A fetched response, with its HTML parsed for CSS-selector assertions.

use scraper::{Html, Selector};

/// A response: status, headers, body, and helpers over its HTML.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn from_response(res: reqwest::blocking::Response) -> Page {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    fn doc(&self) -> Html {
        Html::parse_document(&self.body)
    }

    fn selector(css: &str) -> Selector {
        Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"))
    }

    /// Texts (trimmed, whitespace collapsed) of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let doc = self.doc();
        doc.select(&Self::selector(css))
            .map(|e| {
                e.text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// Text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        self.texts(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css} in:\n{}", self.body))
    }

    /// Number of elements matching `css`.
    pub fn count(&self, css: &str) -> usize {
        self.doc().select(&Self::selector(css)).count()
    }

    /// True when some element matches `css`.
    pub fn has(&self, css: &str) -> bool {
        self.count(css) > 0
    }

    /// Attribute values of every element matching `css`.
    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        self.doc()
            .select(&Self::selector(css))
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }

    /// Value of the first matching element's attribute.
    pub fn attr(&self, css: &str, attr: &str) -> String {
        self.attrs(css, attr)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {attr} on {css} in:\n{}", self.body))
    }

    /// The message shown next to the form field `name`.
    pub fn field_error(&self, name: &str) -> Option<String> {
        self.texts(&format!(".field-error[data-field=\"{name}\"]"))
            .into_iter()
            .next()
    }

    /// The CSRF token found in the page, if any.
    pub fn csrf_token(&self) -> Option<String> {
        self.attrs("input[name=csrf_token]", "value")
            .into_iter()
            .next()
    }

    /// The `Location` header of a redirect.
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .or_else(|| self.headers.get("hx-redirect"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Handles (data-app-id) of the app cards, in order.
    pub fn app_ids(&self) -> Vec<String> {
        self.attrs("[data-testid=apps] li.app-card", "data-app-id")
    }
}
