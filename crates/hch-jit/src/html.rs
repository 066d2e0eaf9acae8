//! The report as one self-contained HTML page: the data as JSON inside it, the page's script
//! and styles inline, nothing fetched from the network.

use crate::analysis::Report;

/// The page.
pub fn html(report: &Report) -> String {
    let data = serde_json::to_string(report).unwrap_or_else(|_| "null".into());
    format!("<!doctype html><html><body><script type=\"application/json\" id=\"data\">{}</script></body></html>", data.replace("</", "<\\/"))
}
