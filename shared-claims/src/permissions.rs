//! Which role may do what, stated once. Handlers ask for a permission, never for a role.

use crate::claims::Role;

/// Something a handler may need the caller to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read, create, change and delete one's own todos.
    ManageOwnTodos,
    /// Read one's own profile, change it, one's password, one's sessions.
    ManageOwnAccount,
    /// List every user's todos.
    ReadAllTodos,
    /// Aggregate reports over every user's todos.
    ViewReports,
    /// List users, change their role or deactivate them.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
}

impl Permission {
    /// A stable name, as 403 problems show it (`todos:own`, `users:manage`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ManageOwnTodos => "todos:own",
            Permission::ManageOwnAccount => "account:own",
            Permission::ReadAllTodos => "todos:all:read",
            Permission::ViewReports => "reports:read",
            Permission::ManageUsers => "users:manage",
            Permission::ReadAudit => "audit:read",
        }
    }
}

const USER: &[Permission] = &[Permission::ManageOwnTodos, Permission::ManageOwnAccount];
const ADMIN: &[Permission] = &[
    Permission::ManageOwnTodos,
    Permission::ManageOwnAccount,
    Permission::ReadAllTodos,
    Permission::ViewReports,
    Permission::ManageUsers,
    Permission::ReadAudit,
];

impl Role {
    /// Every permission this role grants.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::User => USER,
            Role::Admin => ADMIN,
        }
    }

    /// Whether this role grants `permission`.
    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_can_do_everything_a_user_can() {
        for p in Role::User.permissions() {
            assert!(Role::Admin.can(*p), "{p:?}");
        }
    }

    #[test]
    fn a_user_cannot_reach_admin_permissions() {
        for p in [
            Permission::ReadAllTodos,
            Permission::ViewReports,
            Permission::ManageUsers,
            Permission::ReadAudit,
        ] {
            assert!(!Role::User.can(p), "{p:?}");
            assert!(Role::Admin.can(p), "{p:?}");
        }
    }
}
