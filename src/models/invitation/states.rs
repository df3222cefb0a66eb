//! The states an invitation and its e-mail go through, as stored and as shown.

/// Where an invitation stands (pending ones past their expiry read as `Expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Cancelled,
    Expired,
}

impl InvitationStatus {
    pub(super) fn parse(s: &str) -> InvitationStatus {
        match s {
            "accepted" => InvitationStatus::Accepted,
            "declined" => InvitationStatus::Declined,
            "cancelled" => InvitationStatus::Cancelled,
            "expired" => InvitationStatus::Expired,
            _ => InvitationStatus::Pending,
        }
    }

    /// The API's name (`PENDING`, `ACCEPTED`, ...).
    pub fn api_name(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "PENDING",
            InvitationStatus::Accepted => "ACCEPTED",
            InvitationStatus::Declined => "DECLINED",
            InvitationStatus::Cancelled => "CANCELLED",
            InvitationStatus::Expired => "EXPIRED",
        }
    }

    /// The word the screens show.
    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "Pending",
            InvitationStatus::Accepted => "Accepted",
            InvitationStatus::Declined => "Declined",
            InvitationStatus::Cancelled => "Rescinded",
            InvitationStatus::Expired => "Expired",
        }
    }
}

/// Whether the e-mail went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Committed; the send is under way (or the server stopped before recording it).
    Sending,
    /// Handed to the SMTP server or written to the outbox.
    Sent,
    /// Refused or unreachable; `delivery_error` says why.
    Failed,
}

impl DeliveryState {
    pub(super) fn parse(s: &str) -> DeliveryState {
        match s {
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Sending,
        }
    }

    /// The word the screens show.
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Sending => "Sending",
            DeliveryState::Sent => "Sent",
            DeliveryState::Failed => "Not delivered",
        }
    }

    /// Lower-case name for CSS and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }
}
