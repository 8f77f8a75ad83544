#include "stage/framing.h"

#include "stage/udp_source.h"

namespace netdisp::stage {

std::chrono::milliseconds reader_flush_after(const Framing& framing) {
  return framing.send_lines ? std::chrono::milliseconds(0) : framing.flush_after;
}

std::unique_ptr<Source> frame_lines_out(std::unique_ptr<Source> source, const Framing& framing,
                                        std::size_t datagram_size) {
  if (!framing.send_lines) return source;
  return std::make_unique<LineSource>(std::move(source), datagram_size, *framing.send_lines, framing.flush_after);
}

std::unique_ptr<Source> frame_datagram_input(std::unique_ptr<UdpSource> source, const Framing& framing,
                                             std::size_t datagram_size) {
  if (framing.receive_lines && framing.prefix.peer) source->keep_peers();
  return frame_lines_out(std::move(source), framing, datagram_size);
}

std::unique_ptr<Source> frame_stream_input(net::UniqueFd connection, std::string name, const std::string& endpoint,
                                           const net::Address& peer, const Framing& framing,
                                           std::size_t datagram_size) {
  if (framing.receive_lines) {
    auto reader = std::make_unique<StreamSource>(std::move(connection), std::move(name), kStreamLineChunk,
                                                 std::chrono::milliseconds(0));
    reader->set_endpoint(endpoint, peer.to_string());
    reader->set_peer(peer);
    return std::make_unique<LineSource>(std::move(reader), framing.max_line, 0, framing.line_timeout, "--max-line");
  }
  auto reader = std::make_unique<StreamSource>(std::move(connection), std::move(name), datagram_size,
                                               reader_flush_after(framing));
  reader->set_endpoint(endpoint, peer.to_string());
  return frame_lines_out(std::move(reader), framing, datagram_size);
}

std::vector<std::unique_ptr<Sink>> frame_sinks(std::vector<std::unique_ptr<Sink>> sinks, const Framing& framing) {
  if (framing.receive_lines && !sinks.empty())
    sinks.front() = std::make_unique<LineSink>(std::move(sinks.front()), framing.prefix);
  return sinks;
}

}  // namespace netdisp::stage
