//! D1: the factory state and provisioning.

use super::context::{AUTHORIZED, Ctx, Step, Stop, check, factory_pin, forge, limits, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{WireError, sign};

pub(super) fn d01_factory(x: &mut Ctx<'_>) -> Step {
    let info = x.c.info()?;
    x.serial = Some(info.serial.clone());
    if info.state != DiskState::Factory {
        return Err(Stop::Skip(format!(
            "the disk is {} already: D1 needs a factory-state disk",
            info.state
        )));
    }
    x.factory = true;
    check!(
        info.taxpayer_id.is_none(),
        "a factory disk reports a taxpayer id"
    );
    check!(
        info.lock_time.is_none(),
        "a factory disk reports a lock time"
    );
    refused(
        x.c.login(&factory_pin()),
        WireError::NotProvisioned,
        "Login on a factory disk",
    )?;
    refused(
        x.c.public_key(),
        WireError::NotProvisioned,
        "GetPublicKey on a factory disk",
    )?;
    refused(
        x.c.status(InvoiceKind::Normal),
        WireError::NotProvisioned,
        "GetStatus on a factory disk",
    )?;
    Ok(())
}

pub(super) fn d01_provision(x: &mut Ctx<'_>) -> Step {
    if !x.factory {
        return Err(Stop::Skip("needs a factory-state disk".into()));
    }
    let tokens = x.tokens()?;
    let serial = x.serial()?;
    let now = x.now()?;
    let taxpayer = TaxpayerId::new("91350100M000100Y43").map_err(|e| Stop::Fail(e.to_string()))?;
    let name = CompanyName::new("一致性测试有限公司").map_err(|e| Stop::Fail(e.to_string()))?;
    let body = ProvisionToken {
        serial: serial.clone(),
        taxpayer_id: taxpayer.clone(),
        company_name: name.clone(),
        machine: 0,
        kinds: AUTHORIZED.iter().map(|k| limits(*k)).collect(),
        lock_time: now.plus_secs(90 * 86_400),
        upload_deadline: now.plus_secs(90 * 86_400),
        issued_at: now,
    };
    let good = tokens.provision(body.clone())?;
    refused(
        x.c.provision(forge(&good)),
        WireError::BadSignature,
        "Provision with a forged token",
    )?;
    let mut other = body.clone();
    other.serial = x.other_serial()?;
    let other = tokens.provision(other)?;
    refused(
        x.c.provision(other),
        WireError::WrongDevice,
        "Provision with another disk's token",
    )?;
    check!(
        x.c.info()?.state == DiskState::Factory,
        "refused tokens changed the factory state"
    );
    let r = x.c.provision(good.clone())?;
    x.pk = Some(r.public_key);
    x.ours = true;
    x.taxpayer = Some(taxpayer.clone());
    let vk = sign::verifying_key(&r.public_key)
        .map_err(|e| Stop::Fail(format!("provisioned public key: {e}")))?;
    let proof = Signed {
        body: ProvisionProof {
            serial: serial.clone(),
            public_key: r.public_key,
        },
        signature: r.proof,
    };
    check!(
        proof.verify(&vk).is_ok(),
        "the proof of possession does not verify with the new key"
    );
    check!(
        x.c.public_key()? == r.public_key,
        "GetPublicKey differs from the provisioned key"
    );
    let info = x.c.info()?;
    check!(
        info.state == DiskState::Ready,
        "after provisioning the disk is {}",
        info.state
    );
    check!(
        info.taxpayer_id.as_ref() == Some(&taxpayer),
        "{}",
        f::TAXPAYER.say(&[&f::opt(info.taxpayer_id.as_ref()), &taxpayer])
    );
    check!(
        info.company_name.as_ref() == Some(&name),
        "{}",
        f::COMPANY.say(&[&f::opt(info.company_name.as_ref()), &name])
    );
    check!(info.machine == 0, "machine number {}", info.machine);
    check!(
        info.lock_time == Some(body.lock_time),
        "{}",
        f::LOCK_TIME.say(&[&f::time(info.lock_time), &body.lock_time])
    );
    // The same token again (its answer lost, the disk's power cut): the same key, nothing
    // changed. A token for another identity: refused.
    let again = x.c.provision(good)?;
    check!(
        again.public_key == r.public_key,
        "Provision sent again answered another key"
    );
    let mut moved = body.clone();
    moved.machine = 1;
    let moved = tokens.provision(moved)?;
    refused(
        x.c.provision(moved),
        WireError::AlreadyProvisioned,
        "Provision of a provisioned disk for another machine number",
    )?;
    Ok(())
}
