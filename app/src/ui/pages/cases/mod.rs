//! Cases: the list ([`list`]) and its filter in the URL ([`filter`]); a case's page ([`case`])
//! with its tasks ([`tasks`]) and observables ([`observables`]) tabs, and its report dialog
//! ([`report`]).

pub mod case;
pub mod filter;
pub mod list;
pub mod misp;
pub mod observables;
pub mod report;
pub mod tasks;

pub use case::CasePage;
pub use list::CasesPage;
pub use tasks::TaskPage;
