import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body has not fully arrived `seconds` after its head:
/// a client that announces a long body and then sends it a byte at a time (or not at all)
/// cannot hold a connection past its request's timeout. The route has answered 408 by then.
///
/// It sits after the HTTP decoder, so it sees request heads and ends; the idle timeout
/// before a head (slow or missing header lines) is Hummingbird's `HTTPConnectionStateHandler`.
/// It also counts the open connections for `ServerMetrics`.
final class RequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let seconds: Double
    private let metrics: ServerMetrics
    private var deadline: Scheduled<Void>?
    private var counted = false

    init(seconds: Double, metrics: ServerMetrics) {
        self.seconds = seconds
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened() }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        closed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let metrics = self.metrics
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
                metrics.bodyDeadlinesHit.increment()
                context.close(promise: nil)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    private func opened() {
        guard !counted else { return }
        counted = true
        metrics.connectionOpened()
    }

    private func closed() {
        guard counted else { return }
        counted = false
        metrics.connectionClosed()
    }
}
