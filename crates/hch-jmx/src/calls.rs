//! The JMX remote API calls as JRMP Call messages (sans-IO): registry lookup, `newClient`,
//! `invoke`, `getAttribute`, `getDefaultDomain` and `close`.

use crate::jrmp::{encode_call, ObjId};
use crate::ser::{Arg, Writer};

/// `RegistryImpl_Stub.interfaceHash` (1.1-style stub: op number + interface hash).
pub const REGISTRY_INTERFACE_HASH: i64 = 4905912898345647071;
/// Registry operation number of `lookup(String)`.
pub const REGISTRY_LOOKUP: i32 = 2;
/// 1.2-style stubs send op -1 and the method hash.
pub const OP_BY_HASH: i32 = -1;

/// Method hashes (`sun.rmi.server.Util.computeMethodHash`), identical on JDK 17 and 25.
pub mod hash {
    /// `RMIServer.newClient(Object)`.
    pub const NEW_CLIENT: i64 = -1089742558549201240;
    /// `RMIConnection.invoke(ObjectName, String, MarshalledObject, String[], Subject)`.
    pub const INVOKE: i64 = 1434350937885235744;
    /// `RMIConnection.getAttribute(ObjectName, String, Subject)`.
    pub const GET_ATTRIBUTE: i64 = -1089783104982388203;
    /// `RMIConnection.getDefaultDomain(Subject)`: the cheap heartbeat.
    pub const GET_DEFAULT_DOMAIN: i64 = 6047668923998658472;
    /// `RMIConnection.close()`.
    pub const CLOSE: i64 = -4742752445160157748;
}

/// `Registry.lookup(name)`.
pub fn lookup(name: &str) -> Vec<u8> {
    encode_call(
        &ObjId::REGISTRY,
        REGISTRY_LOOKUP,
        REGISTRY_INTERFACE_HASH,
        |w| w.string(name),
    )
}

/// `RMIServer.newClient(credentials)`: `null`, or `String[]{user, password}`.
pub fn new_client(server: &ObjId, credentials: Option<(&str, &str)>) -> Vec<u8> {
    encode_call(
        server,
        OP_BY_HASH,
        hash::NEW_CLIENT,
        |w| match credentials {
            Some((user, password)) => w.strings(&[user.to_string(), password.to_string()]),
            None => w.null(),
        },
    )
}

/// `RMIConnection.invoke(mbean, operation, MarshalledObject(params), signature, null)`.
pub fn invoke(
    conn: &ObjId,
    mbean: &str,
    operation: &str,
    params: &[Arg],
    signature: &[&str],
) -> Vec<u8> {
    let mut inner = Writer::plain();
    inner.objects(params);
    let params = inner.finish();
    let signature: Vec<String> = signature.iter().map(|s| s.to_string()).collect();
    encode_call(conn, OP_BY_HASH, hash::INVOKE, |w| {
        w.object_name(mbean);
        w.string(operation);
        w.marshalled_object(&params);
        w.strings(&signature);
        w.null(); // no delegation Subject
    })
}

/// `RMIConnection.getAttribute(mbean, attribute, null)`.
pub fn get_attribute(conn: &ObjId, mbean: &str, attribute: &str) -> Vec<u8> {
    encode_call(conn, OP_BY_HASH, hash::GET_ATTRIBUTE, |w| {
        w.object_name(mbean);
        w.string(attribute);
        w.null();
    })
}

/// `RMIConnection.getDefaultDomain(null)`.
pub fn get_default_domain(conn: &ObjId) -> Vec<u8> {
    encode_call(conn, OP_BY_HASH, hash::GET_DEFAULT_DOMAIN, Writer::null)
}

/// `RMIConnection.close()`.
pub fn close(conn: &ObjId) -> Vec<u8> {
    encode_call(conn, OP_BY_HASH, hash::CLOSE, |_| {})
}
