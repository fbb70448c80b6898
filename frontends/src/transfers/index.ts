export { RequestForm } from "./RequestForm";
export { TransferList } from "./TransferList";
