import Foundation
import Prometheus

#if canImport(Glibc)
    import Glibc
#endif

/// The standard Prometheus process metrics (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, `process_open_fds`, …), as every Prometheus client library
/// exports them, read from `/proc/self` on each scrape. Where there is no `/proc` they stay 0.
final class ProcessMetrics: ScrapedMetrics {
    private let cpu: TotalCounter
    private let resident: Gauge
    private let virtual: Gauge
    private let openFiles: Gauge
    private let maxFiles: Gauge
    private let startTime: Gauge
    private let threads: Gauge
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    init(registry: PrometheusCollectorRegistry) {
        func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "process", metricName: name, unitName: unit, helpText: help)
        }
        cpu = TotalCounter(
            registry.makeCounter(
                descriptor: name("cpu_seconds", "total", "Total user and system CPU time spent in seconds")))
        resident = registry.makeGauge(
            descriptor: name("resident_memory", "bytes", "Resident memory size in bytes"))
        virtual = registry.makeGauge(
            descriptor: name("virtual_memory", "bytes", "Virtual memory size in bytes"))
        openFiles = registry.makeGauge(descriptor: name("open", "fds", "Number of open file descriptors"))
        maxFiles = registry.makeGauge(
            descriptor: name("max", "fds", "Maximum number of open file descriptors"))
        startTime = registry.makeGauge(
            descriptor: name(
                "start_time", "seconds", "Start time of the process since the Unix epoch in seconds"))
        threads = registry.makeGauge(descriptor: name("threads", "", "Number of OS threads in the process"))
        if let stat = Self.stat(), let bootTime = Self.bootTime() {
            startTime.set(bootTime + stat.startTicks / ticksPerSecond)
        }
    }

    func update() {
        if let stat = Self.stat() {
            cpu.advance(to: stat.cpuTicks / ticksPerSecond)
            resident.set(stat.residentPages * pageSize)
            virtual.set(stat.virtualBytes)
            threads.set(stat.threads)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // Less the one the listing itself had open.
            openFiles.set(Double(max(0, descriptors.count - 1)))
        }
        var limit = rlimit()
        if getrlimit(Self.fileLimit, &limit) == 0 { maxFiles.set(Double(limit.rlim_cur)) }
    }

    #if os(Linux)
        private static let fileLimit = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let fileLimit = RLIMIT_NOFILE
    #endif

    /// The fields of `/proc/self/stat` these metrics use.
    private struct Stat {
        var cpuTicks: Double
        var threads: Double
        var startTicks: Double
        var virtualBytes: Double
        var residentPages: Double
    }

    private static func stat() -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let nameEnd = text.lastIndex(of: ")")
        else { return nil }
        // The fields after the command name, which may hold spaces: field 3 (state) first.
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard let user = field(14), let system = field(15), let threads = field(20), let start = field(22),
            let virtual = field(23), let resident = field(24)
        else { return nil }
        return Stat(
            cpuTicks: user + system, threads: threads, startTicks: start, virtualBytes: virtual,
            residentPages: resident)
    }

    /// When the machine booted, in seconds since the Unix epoch (`btime` in `/proc/stat`).
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap {
            Double($0.dropFirst(6))
        }
    }
}
