//! Who is asking and what they may do: passwords, the session / PAT identity, the
//! CSRF guard, and the one authorization policy.

pub mod action;
pub mod csrf;
pub mod password;
pub mod password_policy;
pub mod policy;
pub mod roles;
pub mod session;
pub mod teams;
pub mod totp;
