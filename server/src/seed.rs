//! What every new organisation starts with. Each area adds its defaults here (observable data
//! types, the default dashboards...); called when an organisation is created, in the same
//! request, before anyone can use it.

use app::model::Organisation;

use crate::error::Result;
use crate::store::Store;

pub async fn new_organisation(store: &Store, org: &Organisation) -> Result<()> {
    crate::dashboard::seed_organisation(store, org).await?;
    crate::data_type::seed_defaults(store, &org.id).await?;
    Ok(())
}
