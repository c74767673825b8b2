//! What each searchable entity is made of: the fields a query may name, their kinds, and how
//! entities relate (for `_parent` and `_child`).

/// Entities, by TheHive's type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Case,
    Task,
    Log,
    Observable,
    Alert,
    CaseTemplate,
    Dashboard,
    Audit,
    Job,
    /// An analyzer an organisation enabled (searched through the Cortex API).
    Analyzer,
}

impl Entity {
    /// From a v0 type name (`case`, `case_task`, `case_task_log`, `case_artifact`, ...).
    pub fn from_type(t: &str) -> Option<Entity> {
        Some(match t {
            "case" => Entity::Case,
            "case_task" | "task" => Entity::Task,
            "case_task_log" | "log" => Entity::Log,
            "case_artifact" | "observable" | "artifact" => Entity::Observable,
            "alert" => Entity::Alert,
            "caseTemplate" | "case_template" => Entity::CaseTemplate,
            "dashboard" => Entity::Dashboard,
            "audit" => Entity::Audit,
            "case_artifact_job" | "job" => Entity::Job,
            _ => return None,
        })
    }

    pub fn v0_type(self) -> &'static str {
        match self {
            Entity::Case => "case",
            Entity::Task => "case_task",
            Entity::Log => "case_task_log",
            Entity::Observable => "case_artifact",
            Entity::Alert => "alert",
            Entity::CaseTemplate => "caseTemplate",
            Entity::Dashboard => "dashboard",
            Entity::Audit => "audit",
            Entity::Job => "case_artifact_job",
            Entity::Analyzer => "analyzer",
        }
    }

    /// The database table.
    pub fn table(self) -> &'static str {
        match self {
            Entity::Case => "case",
            Entity::Task => "task",
            Entity::Log => "task_log",
            Entity::Observable => "observable",
            Entity::Alert => "alert",
            Entity::CaseTemplate => "case_template",
            Entity::Dashboard => "dashboard",
            Entity::Audit => "audit",
            Entity::Job => "job",
            Entity::Analyzer => "analyzer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Exact-match string (keyword).
    Keyword,
    /// Free text (searched by `_like` and `_string`).
    Text,
    Number,
    /// Epoch milliseconds.
    Date,
    Bool,
    /// A list of strings (tags): equality means "contains".
    Keywords,
    /// A nested object (custom fields, metrics): dotted paths below it are allowed.
    Object,
    /// A parent's record key.
    Link,
}

pub struct Schema {
    pub entity: Entity,
    /// (name in queries, database path, kind)
    pub fields: &'static [(&'static str, &'static str, FieldKind)],
    /// The parent entity and the field holding its key.
    pub parent: Option<(Entity, &'static str)>,
    /// Children: (entity, the child's field holding this entity's key).
    pub children: &'static [(Entity, &'static str)],
}

impl Schema {
    pub fn field(&self, name: &str) -> Option<(&'static str, FieldKind)> {
        self.fields.iter().chain(COMMON.iter()).find(|(n, _, _)| *n == name).map(|(_, p, k)| (*p, *k))
    }

    /// Every field a query may name on this entity.
    pub fn all_fields(&self) -> impl Iterator<Item = &(&'static str, &'static str, FieldKind)> + '_ {
        self.fields.iter().chain(COMMON.iter())
    }

    pub fn text_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().filter(|(_, _, k)| matches!(k, FieldKind::Text)).map(|(_, p, _)| *p)
    }
}

use FieldKind::*;

/// Fields every record has (v0 and v1 names).
static COMMON: &[(&str, &str, FieldKind)] = &[
    ("createdAt", "createdAt", Date),
    ("createdBy", "createdBy", Keyword),
    ("updatedAt", "updatedAt", Date),
    ("updatedBy", "updatedBy", Keyword),
    ("_createdAt", "createdAt", Date),
    ("_createdBy", "createdBy", Keyword),
    ("_updatedAt", "updatedAt", Date),
    ("_updatedBy", "updatedBy", Keyword),
];

static CASE: Schema = Schema {
    entity: Entity::Case,
    fields: &[
        ("caseId", "caseId", Number),
        ("number", "caseId", Number),
        ("title", "title", Text),
        ("description", "description", Text),
        ("severity", "severity", Number),
        ("owner", "owner", Keyword),
        ("assignee", "owner", Keyword),
        ("startDate", "startDate", Date),
        ("endDate", "endDate", Date),
        ("tags", "tags", Keywords),
        ("flag", "flag", Bool),
        ("tlp", "tlp", Number),
        ("pap", "pap", Number),
        ("status", "status", Keyword),
        ("resolutionStatus", "resolutionStatus", Keyword),
        ("stage", "stage", Keyword),
        ("impactStatus", "impactStatus", Keyword),
        ("summary", "summary", Text),
        ("metrics", "metrics", Object),
        ("customFields", "customFields", Object),
        ("mergeInto", "mergeInto", Keyword),
        ("mergeFrom", "mergeFrom", Keywords),
        ("template", "template", Keyword),
    ],
    parent: None,
    children: &[(Entity::Task, "case"), (Entity::Observable, "case")],
};

static TASK: Schema = Schema {
    entity: Entity::Task,
    fields: &[
        ("title", "title", Text),
        ("group", "group", Keyword),
        ("description", "description", Text),
        ("owner", "owner", Keyword),
        ("assignee", "owner", Keyword),
        ("status", "status", Keyword),
        ("flag", "flag", Bool),
        ("order", "order", Number),
        ("startDate", "startDate", Date),
        ("endDate", "endDate", Date),
        ("dueDate", "dueDate", Date),
        ("case", "case", Link),
    ],
    parent: Some((Entity::Case, "case")),
    children: &[(Entity::Log, "task")],
};

static LOG: Schema = Schema {
    entity: Entity::Log,
    fields: &[
        ("message", "message", Text),
        ("startDate", "startDate", Date),
        ("status", "status", Keyword),
        ("owner", "owner", Keyword),
        ("attachment", "attachment", Object),
        ("task", "task", Link),
        ("case", "case", Link),
    ],
    parent: Some((Entity::Task, "task")),
    children: &[],
};

static OBSERVABLE: Schema = Schema {
    entity: Entity::Observable,
    fields: &[
        ("dataType", "dataType", Keyword),
        ("data", "data", Keyword),
        ("message", "message", Text),
        ("startDate", "startDate", Date),
        ("tlp", "tlp", Number),
        ("tags", "tags", Keywords),
        ("ioc", "ioc", Bool),
        ("sighted", "sighted", Bool),
        ("status", "status", Keyword),
        ("attachment", "attachment", Object),
        ("reports", "reports", Object),
        ("case", "case", Link),
    ],
    parent: Some((Entity::Case, "case")),
    children: &[(Entity::Job, "observable")],
};

static ALERT: Schema = Schema {
    entity: Entity::Alert,
    fields: &[
        ("type", "type", Keyword),
        ("source", "source", Keyword),
        ("sourceRef", "sourceRef", Keyword),
        ("date", "date", Date),
        ("title", "title", Text),
        ("description", "description", Text),
        ("severity", "severity", Number),
        ("tlp", "tlp", Number),
        ("pap", "pap", Number),
        ("tags", "tags", Keywords),
        ("status", "status", Keyword),
        ("follow", "follow", Bool),
        ("caseTemplate", "caseTemplate", Keyword),
        ("case", "case", Keyword),
        ("customFields", "customFields", Object),
        ("lastSyncDate", "lastSyncDate", Date),
        ("externalLink", "externalLink", Keyword),
        ("occurrences", "occurrences", Number),
        ("lastOccurrence", "lastOccurrence", Date),
        // Observables are embedded in the alert (v0 calls them artifacts); a value or a data
        // type matches when one of the alert's observables has it.
        ("artifacts", "observables", Object),
        ("observables", "observables", Object),
        ("artifacts.data", "observables.data", Keywords),
        ("observables.data", "observables.data", Keywords),
        ("artifacts.dataType", "observables.dataType", Keywords),
        ("observables.dataType", "observables.dataType", Keywords),
    ],
    parent: None,
    children: &[],
};

static CASE_TEMPLATE: Schema = Schema {
    entity: Entity::CaseTemplate,
    fields: &[
        ("name", "name", Keyword),
        ("titlePrefix", "titlePrefix", Text),
        ("description", "description", Text),
        ("severity", "severity", Number),
        ("tags", "tags", Keywords),
        ("flag", "flag", Bool),
        ("tlp", "tlp", Number),
        ("pap", "pap", Number),
        ("status", "status", Keyword),
    ],
    parent: None,
    children: &[],
};

static DASHBOARD: Schema = Schema {
    entity: Entity::Dashboard,
    fields: &[
        ("title", "title", Text),
        ("description", "description", Text),
        ("status", "status", Keyword),
    ],
    parent: None,
    children: &[],
};

static AUDIT: Schema = Schema {
    entity: Entity::Audit,
    fields: &[
        ("operation", "operation", Keyword),
        ("objectType", "objectType", Keyword),
        ("objectId", "objectId", Keyword),
        ("rootId", "rootId", Keyword),
        ("requestId", "requestId", Keyword),
        ("startDate", "startDate", Date),
        ("details", "details", Object),
    ],
    parent: None,
    children: &[],
};

static JOB: Schema = Schema {
    entity: Entity::Job,
    fields: &[
        ("analyzerId", "analyzerId", Keyword),
        ("analyzerName", "analyzerName", Keyword),
        ("analyzerDefinition", "analyzerDefinition", Keyword),
        ("cortexId", "cortexId", Keyword),
        ("cortexJobId", "cortexJobId", Keyword),
        ("status", "status", Keyword),
        ("dataType", "dataType", Keyword),
        ("data", "data", Keyword),
        ("tlp", "tlp", Number),
        ("pap", "pap", Number),
        ("startDate", "startDate", Date),
        ("endDate", "endDate", Date),
        ("observable", "observable", Link),
    ],
    parent: Some((Entity::Observable, "observable")),
    children: &[],
};

/// What the analyzer table holds; the definition's fields (data types, description) are not
/// stored with it, so they cannot be searched.
static ANALYZER: Schema = Schema {
    entity: Entity::Analyzer,
    fields: &[
        ("name", "name", Keyword),
        ("definitionId", "definitionId", Keyword),
        ("analyzerDefinitionId", "definitionId", Keyword),
        ("workerDefinitionId", "definitionId", Keyword),
        ("rate", "rate", Number),
        ("rateUnit", "rateUnit", Keyword),
        ("jobCache", "jobCache", Number),
        ("jobTimeout", "jobTimeout", Number),
    ],
    parent: None,
    children: &[],
};

pub fn schema(entity: Entity) -> &'static Schema {
    match entity {
        Entity::Case => &CASE,
        Entity::Task => &TASK,
        Entity::Log => &LOG,
        Entity::Observable => &OBSERVABLE,
        Entity::Alert => &ALERT,
        Entity::CaseTemplate => &CASE_TEMPLATE,
        Entity::Dashboard => &DASHBOARD,
        Entity::Audit => &AUDIT,
        Entity::Job => &JOB,
        Entity::Analyzer => &ANALYZER,
    }
}
