//! Prints the JFR settings (`.jfc`) `hch jit TARGET` records with, for starting a JVM with
//! the same events: `java -XX:StartFlightRecording:settings=/path/jit.jfc,filename=rec.jfr ...`.

fn main() {
    let o = hch_jit::record_options(
        std::time::Duration::from_secs(60),
        std::time::Duration::from_millis(20),
    );
    print!("{}", o.settings_xml());
}
