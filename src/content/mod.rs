//! The service layer of app content: what the pages (and the `/v2` API) call to
//! upload inputs, train models and predict. Handlers stay thin; the rules live here
//! and in `models/`.

pub mod predict;
pub mod training;
pub mod upload;
