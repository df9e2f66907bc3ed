//! Passwords (Argon2id) and bearer tokens (HS256 JWT).
pub mod password;
pub mod token;
