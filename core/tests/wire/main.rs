//! Wire-level tests of Trustline's AWS layer: signatures checked against botocore and moto,
//! parsers run on responses recorded from moto and on fixtures in AWS's documented shapes.

mod corpus;
mod errors;
mod moto;
mod parsers;
mod signing;
