//! A bare server process (`flotilla-apiserver DATA [LISTEN [KUBECONFIG]]`), for the crash
//! test and the benchmarks, which need to kill and restart a real process. Users run
//! `flotilla apiserver`. Prints `listening on ADDR` once serving.
use std::net::SocketAddr;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(data) = args.first() else {
        eprintln!("usage: flotilla-apiserver DATA [LISTEN [KUBECONFIG]]");
        return ExitCode::from(2);
    };
    let listen: SocketAddr = match args.get(1).map(|s| s.parse()) {
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            eprintln!("invalid listen address: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = flotilla_apiserver::Config::new(data, listen);
    config.kubeconfig = args.get(2).map(Into::into);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        match flotilla_apiserver::serve(config).await {
            Ok(mut handle) => {
                println!("listening on {}", handle.addr);
                handle.wait().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
